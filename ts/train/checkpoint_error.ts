/** A checkpoint or weights file that cannot be loaded (says which file and why; nothing was changed). */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}
