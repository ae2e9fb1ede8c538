import { MigrationGlue } from '../src/index.js';
import type { ConfigProvider, Logger, MigrationConfig, MigrationGlueOptions } from '../src/index.js';

/** A logger that keeps what it was given, for assertions. */
export function recordingLogger(): Logger & { lines: { level: string; context: object; message?: string }[] } {
  const lines: { level: string; context: object; message?: string }[] = [];
  const at = (level: string) => (context: object, message?: string) => {
    lines.push({ level, context, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A glue named `pricing` whose old answers 'old' and new 'new', logging into a recordingLogger; `extra` overrides any option. */
export function pricingGlue<I>(config: MigrationConfig | ConfigProvider, extra: Partial<MigrationGlueOptions<I, string>> = {}) {
  const logger = recordingLogger();
  const glue = new MigrationGlue<I, string>({
    name: 'pricing',
    oldService: async () => 'old',
    newService: async () => 'new',
    config,
    logger,
    ...extra,
  });
  return { glue, logger };
}
