// `require('tread')`: tread is an ES module; Node >= 20.19 (and >= 22.12) can require it.
// Older Nodes cannot, and get this message instead of ERR_REQUIRE_ESM's.
'use strict';
try {
  module.exports = require('../dist/tread.js');
} catch (e) {
  if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    throw new Error(
      `tread is an ES module: require('tread') needs Node >= 20.19 or >= 22.12 (this is ${process.version}); ` +
        "use `const tread = await import('tread')` or `import * as tread from 'tread'` instead",
    );
  }
  throw e;
}
