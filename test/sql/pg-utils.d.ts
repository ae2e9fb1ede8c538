// node-postgres' own serialisation of a parameter, for a test that compares with it (the module ships no types).
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): unknown };
  export default utils;
}
