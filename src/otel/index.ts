export type { InstrumentGlueOptions, InstrumentableGlue } from './instrument-glue.js';
export { instrumentGlue } from './instrument-glue.js';
