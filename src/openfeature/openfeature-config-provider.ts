import type { Client, EvaluationContext, EventHandler, JsonValue } from '@openfeature/server-sdk';
import { ProviderEvents } from '@openfeature/server-sdk';
import type { ConfigProvider } from '../config/config-provider.js';
import { Listeners } from '../config/listeners.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { MigrationConfigError, parseMigrationConfig, sameConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { z } from 'zod';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import { field, parseOptions } from '../option-schema.js';

/** What the provider needs of an OpenFeature client: evaluating an object flag and provider events. */
export type OpenFeatureClient = Pick<Client, 'getObjectDetails' | 'addHandler' | 'removeHandler'>;

/** Options of openFeatureConfigProvider. Checked once. */
export interface OpenFeatureConfigOptions {
  /** An OpenFeature server client, e.g. `OpenFeature.getClient()`. Required. */
  readonly client: OpenFeatureClient;
  /** The key of a JSON-object flag whose value is the MigrationConfig. Required. */
  readonly flagKey: string;
  /**
   * Served until the flag has been evaluated once, and whenever it never
   * evaluated to a valid config.
   * @default phases.preparation()
   */
  readonly initial?: MigrationConfig;
  /** The evaluation context of the flag (one config for the whole fleet: usually none). @default {} */
  readonly context?: EvaluationContext;
  /** Receives changes and refused flag values. @default silentLogger */
  readonly logger?: Logger;
}

/** A ConfigProvider that follows an OpenFeature flag. */
export interface OpenFeatureConfigProvider extends ConfigProvider {
  /** Resolves once the flag has been evaluated (whatever the outcome): from then on `current()` is the flag's config, if valid. */
  ready(): Promise<MigrationConfig>;
  /** Evaluates the flag again now; resolves with the config in force afterwards. Never rejects. */
  refresh(): Promise<MigrationConfig>;
  /** Stops following flag change events and drops listeners. Idempotent. */
  close(): void;
}

type Listener = (config: MigrationConfig) => void;

const isClient = (value: unknown): boolean => {
  const client = value as Partial<OpenFeatureClient> | null;
  return typeof client === 'object' && client !== null && typeof client.getObjectDetails === 'function' && typeof client.addHandler === 'function';
};

const optionsSchema = z.strictObject({
  client: field<OpenFeatureClient>(isClient, 'an OpenFeature client (OpenFeature.getClient())'),
  flagKey: field<string>((value) => typeof value === 'string' && value !== '', 'a non-empty string (the flag holding the config)'),
  // Checked by parseMigrationConfig, which names every bad field (MigrationConfigError).
  initial: z.custom<MigrationConfig>(() => true).optional(),
  context: field<EvaluationContext>((value) => typeof value === 'object' && value !== null, 'an evaluation context object').default(() => ({})),
  logger: loggerOption('silent'),
});

/**
 * A ConfigProvider reading the migration config from an OpenFeature flag
 * whose value is a JSON object with the four config fields.
 *
 * `current()` answers from memory: `initial` until the first evaluation
 * (await `ready()` before routing traffic that must follow the flag), then
 * the flag's last valid value. The flag is evaluated again on each
 * `PROVIDER_CONFIGURATION_CHANGED` event that names it (or names no flag)
 * and when the provider becomes ready. A value that is not a valid config,
 * or an evaluation that failed (flag missing, type mismatch, provider
 * error), is refused and logged; the last good config keeps serving.
 * @throws InvalidOptionError on a missing client or flagKey, or an unknown option; MigrationConfigError for a bad `initial`.
 */
export function openFeatureConfigProvider(options: OpenFeatureConfigOptions): OpenFeatureConfigProvider {
  const o = parseOptions(optionsSchema, options, 'openFeatureConfigProvider');
  return new FlagConfigProvider(o.client, o.flagKey, parseMigrationConfig(o.initial ?? phases.preparation()), o.context, o.logger);
}

class FlagConfigProvider implements OpenFeatureConfigProvider {
  readonly #client: OpenFeatureClient;
  readonly #flagKey: string;
  readonly #context: EvaluationContext;
  readonly #logger: Logger;
  readonly #listeners: Listeners<MigrationConfig>;
  readonly #onChange: EventHandler;
  readonly #onReady: EventHandler;
  readonly #first: Promise<MigrationConfig>;
  #config: MigrationConfig;
  #closed = false;
  // Evaluations are numbered so that a slow, older one cannot overwrite a newer one's result.
  #issued = 0;
  #applied = 0;
  #lastRefused: string | undefined;

  constructor(client: OpenFeatureClient, flagKey: string, initial: MigrationConfig, context: EvaluationContext, logger: Logger) {
    this.#client = client;
    this.#flagKey = flagKey;
    this.#context = context;
    this.#config = initial;
    this.#logger = logger;
    this.#listeners = new Listeners(logger, 'config listener threw');
    this.#onChange = (details) => {
      const changed: unknown = details?.flagsChanged;
      if (!Array.isArray(changed) || changed.includes(this.#flagKey)) void this.refresh();
    };
    this.#onReady = () => void this.refresh();
    client.addHandler(ProviderEvents.ConfigurationChanged, this.#onChange);
    client.addHandler(ProviderEvents.Ready, this.#onReady);
    this.#first = this.refresh();
  }

  current(): MigrationConfig {
    return this.#config;
  }

  subscribe(listener: Listener): () => void {
    return this.#listeners.add(listener);
  }

  ready(): Promise<MigrationConfig> {
    return this.#first;
  }

  async refresh(): Promise<MigrationConfig> {
    if (this.#closed) return this.#config;
    const ticket = ++this.#issued;
    let value: JsonValue;
    try {
      const details = await this.#client.getObjectDetails(this.#flagKey, {}, this.#context);
      if (details.errorCode !== undefined) {
        this.#refuse(`error:${details.errorCode}:${details.errorMessage ?? ''}`, () =>
          this.#logger.error(
            { flagKey: this.#flagKey, errorCode: details.errorCode, errorMessage: details.errorMessage, config: this.#config },
            'migration config flag could not be evaluated; keeping the last good config',
          ),
        );
        return this.#config;
      }
      value = details.value;
    } catch (err) {
      this.#refuse(`throw:${String(err)}`, () =>
        this.#logger.error({ err, flagKey: this.#flagKey, config: this.#config }, 'migration config flag could not be evaluated; keeping the last good config'),
      );
      return this.#config;
    }
    if (this.#closed || ticket < this.#applied) return this.#config;
    let config: MigrationConfig;
    try {
      config = parseMigrationConfig(value);
    } catch (err) {
      if (!(err instanceof MigrationConfigError)) throw err;
      this.#refuse(`invalid:${JSON.stringify(value)}`, () =>
        this.#logger.error(
          { flagKey: this.#flagKey, issues: err.issues, config: this.#config },
          `migration config flag refused, keeping the last good config: ${err.message}`,
        ),
      );
      return this.#config;
    }
    this.#applied = ticket;
    this.#lastRefused = undefined;
    if (sameConfig(config, this.#config)) return this.#config;
    const before = this.#config;
    this.#config = config;
    this.#logger.info({ flagKey: this.#flagKey, before, after: config }, 'migration config changed in flag');
    this.#listeners.notify(config);
    return config;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.close();
    this.#client.removeHandler(ProviderEvents.ConfigurationChanged, this.#onChange);
    this.#client.removeHandler(ProviderEvents.Ready, this.#onReady);
  }

  #refuse(problem: string, log: () => void): void {
    if (problem === this.#lastRefused) return;
    this.#lastRefused = problem;
    log();
  }
}
