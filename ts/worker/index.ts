/**
 * tread.worker: training in a Worker, driven from a page. serveTraining (host.ts) runs in
 * the Worker; TrainingWorker (client.ts) is the page's handle on it.
 */
export { serveTraining } from './host.js';
export type { TrainingSetup, SetupFn, ServeOptions } from './host.js';
export { TrainingWorker } from './client.js';
export type { TrainingEvents, Prediction } from './client.js';
export type { Endpoint, BatchProgress, EpochProgress, TrainingSummary, TrainingState } from './protocol.js';
