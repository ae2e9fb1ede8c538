/** The tests that pin each mutated file (see tests-by-file.mjs). */
export declare const testsByFile: Readonly<Record<string, readonly string[]>>;
/** The file named by MUTATION_FILE, or undefined for a whole run. */
export declare function mutationFile(): string | undefined;
/** One name per mutated file, for its incremental file and JSON report. */
export declare function slugOf(file: string): string;
