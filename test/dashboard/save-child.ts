/**
 * Run by browser.test.ts in a separate Node process:
 *   node --import tsx save-child.ts <file> <config JSON>
 * Opens a FileConfigStore on <file>, saves <config>, closes and prints "saved".
 */
import { FileConfigStore } from '../../src/config/file-config-store.js';

const [file, configJson] = process.argv.slice(2);
if (file === undefined || configJson === undefined) throw new Error('usage: file config');
const store = new FileConfigStore({ path: file, watch: false });
await store.save(JSON.parse(configJson));
store.close();
process.stdout.write('saved\n');
