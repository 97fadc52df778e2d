import { describe, expect, it } from 'vitest';
import { ArgError, parseTrainArgs, trainHelp, TRAIN_OPTIONS } from '../ts/cli/args.js';
import { formatDuration, ProgressBar } from '../ts/cli/progress.js';
import { resolveDefaults } from '../ts/cli/setup.js';

const noConfig = () => {
  throw new Error('no config expected');
};

describe('tread train options', () => {
  it('has defaults for a run with no arguments', () => {
    const { args, help } = parseTrainArgs([], noConfig);
    expect(help).toBe(false);
    const a = resolveDefaults(args);
    expect(a).toMatchObject({ data: 'mnist', model: 'cnn', out: './tread-out', optimizer: 'adam', schedule: 'onecycle', seed: 1 });
    expect(a.epochs).toBeGreaterThan(0);
    expect(a.lr).toBeGreaterThan(0);
  });

  it('parses flags, --x=y, --no-x and a JSON config that flags override', () => {
    const cfg = JSON.stringify({ model: 'mlp', batchSize: 128, epochs: 3, 'weight-decay': 0.01 });
    const { args } = parseTrainArgs(['--config', 'c.json', '--epochs=5', '--no-batchnorm', '--data', 'fashion-mnist', '--lr', '1e-3'], () => cfg);
    expect(args).toMatchObject({ model: 'mlp', batchSize: 128, epochs: 5, batchnorm: false, data: 'fashion-mnist', lr: 0.001, weightDecay: 0.01 });
  });

  it('rejects bad input with a message naming the option', () => {
    expect(() => parseTrainArgs(['--epochs', 'x'], noConfig)).toThrow(ArgError);
    expect(() => parseTrainArgs(['--epochs', '2.5'], noConfig)).toThrow(/integer/);
    expect(() => parseTrainArgs(['--data', 'cifar'], noConfig)).toThrow(/one of mnist, fashion-mnist/);
    expect(() => parseTrainArgs(['--epoch', '3'], noConfig)).toThrow(/unknown option --epoch \(did you mean --epochs/);
    expect(() => parseTrainArgs(['--config', 'c.json'], () => '{"nope": 1}')).toThrow(/unknown key 'nope'/);
    expect(() => parseTrainArgs(['--config', 'c.json'], () => '{bad')).toThrow(/--config c.json/);
    expect(() => parseTrainArgs(['--lr'], noConfig)).toThrow(/needs a value/);
  });

  it('--help documents every option', () => {
    expect(parseTrainArgs(['--help'], noConfig).help).toBe(true);
    const h = trainHelp();
    for (const o of TRAIN_OPTIONS) expect(h).toContain(`--${o.flag}`);
  });
});

describe('progress bar', () => {
  it('prints plain lines when not on a TTY', () => {
    let text = '';
    const stream = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar({ stream });
    const ctx: any = { epoch: 0, epochs: 2, batch: 0, batchesPerEpoch: 10, batchSize: 32, loss: 0.5 };
    bar.onEpochBegin();
    for (let b = 0; b < 10; b++) bar.onBatchEnd({ ...ctx, batch: b });
    bar.onEpochEnd();
    const lines = text.trim().split('\n');
    expect(lines.length).toBe(4);
    expect(lines[0]).toMatch(/^epoch 1\/2 \[=+>? *\] 2\/10 {2}loss 0\.5000 {2}\d+ samples\/s {2}ETA /);
    expect(text).not.toContain('\r');
  });

  it('formats durations', () => {
    expect(formatDuration(3.21)).toBe('3.2s');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3700)).toBe('1h01m');
  });
});
