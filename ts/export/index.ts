/** tread.export: hand a running training over to PyTorch (train_torch.py + state files). */
export { exportToPyTorch, encodePyTorchExport } from './pytorch.js';
export type { ExportToPyTorchOptions, ExportedFiles } from './pytorch.js';
