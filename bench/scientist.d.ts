// Trello's `scientist` ships no types: the part of its API the benchmark uses.
declare module 'scientist' {
  import { EventEmitter } from 'node:events';

  interface ScientistExperiment {
    async(isAsync: boolean): void;
    use(block: () => unknown): void;
    try(block: () => unknown): void;
    compare(comparator: (control: unknown, candidate: unknown) => boolean): void;
  }

  class Scientist extends EventEmitter {
    science<T>(name: string, setup: (experiment: ScientistExperiment) => void): T;
  }

  export = Scientist;
}
