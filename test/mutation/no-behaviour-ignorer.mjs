// @ts-check
// A Stryker ignore plugin: mutants that cannot change what the library does
// are reported as "Ignored", with the reason below, instead of counting as
// survivors. Only the message of a logger call qualifies: its wording is not
// behaviour, while the structured fields beside it are (people query them)
// and stay mutated. Survivors that are equivalent for subtler reasons are
// listed, not ignored, in equivalent-mutants.mjs.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

const loggerMethods = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

export const logWordingReason = 'Log wording: the message of a logger call; the structured fields beside it are still mutated.';

/**
 * True for the message argument of `something.warn(fields, 'message')` or
 * `something.warn('message')`: a string or template literal.
 * @param {any} nodePath a babel NodePath
 */
function isLogMessage(nodePath) {
  if (!nodePath.isStringLiteral() && !nodePath.isTemplateLiteral()) return false;
  const parent = nodePath.parentPath;
  if (parent === null || !parent.isCallExpression()) return false;
  const { callee, arguments: args } = parent.node;
  if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier' || !loggerMethods.has(callee.property.name)) return false;
  const message = args.length >= 2 ? args[1] : args[0];
  return message === nodePath.node;
}

const ignorer = {
  /** @param {any} nodePath a babel NodePath */
  shouldIgnore(nodePath) {
    return isLogMessage(nodePath) ? logWordingReason : undefined;
  },
};

export const strykerPlugins = [declareValuePlugin(PluginKind.Ignore, 'no-behaviour', ignorer)];
