import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig } from '../../src/config.js';

// Found by an attack: with NODE_ENV=production the development tenant and admin keys still worked and were
// printed at start-up, and the payment simulator started silently (orders "paid" by nobody). Production now
// refuses to start on a missing or development secret, never starts the simulator unless asked, and reads secrets
// from the environment or from the files secret agents write (`*_FILE`).

const SECRETS = {
  ADMIN_KEY: 'prod-admin-0123456789',
  OPS_TOKEN: 'prod-ops-0123456789',
  ACME_API_KEY: 'prod-acme-0123456789',
  GLOBEX_API_KEY: 'prod-globex-0123456789',
};
const production = { NODE_ENV: 'production', PAYMENT_URL: 'https://payments.example' };

describe('production configuration', () => {
  it('refuses to start with missing secrets, naming them and not their values', () => {
    expect(() => loadConfig(production)).toThrow(/`ADMIN_KEY` \(or `ADMIN_KEY_FILE`\), `OPS_TOKEN`/);
  });

  it('refuses the development defaults even when set explicitly', () => {
    const env = { ...production, ...SECRETS, ACME_API_KEY: DEFAULT_CONFIG.acmeApiKey };
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('`ACME_API_KEY`');
    expect(message).not.toContain(DEFAULT_CONFIG.acmeApiKey);
  });

  it('never starts the payment simulator implicitly', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...SECRETS })).toThrow(/PAYMENT_URL/);
    expect(
      loadConfig({ NODE_ENV: 'production', ...SECRETS, PAYMENT_SIMULATOR: 'true' }).paymentSimulator,
    ).toBe(true);
    expect(loadConfig({ ...production, ...SECRETS }).paymentSimulator).toBe(false);
  });

  it('reads secrets from files (the mount Vault Agent or a CSI driver writes), one trailing newline trimmed', () => {
    const files: Record<string, string> = { '/run/secrets/admin': 'file-admin-0123456789\n' };
    const config = loadConfig(
      { ...production, ...SECRETS, ADMIN_KEY: undefined, ADMIN_KEY_FILE: '/run/secrets/admin' },
      (path) => {
        const content = files[path];
        if (content === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
        return content;
      },
    );
    expect(config.adminKey).toBe('file-admin-0123456789');
    expect(config.mode).toBe('production');
    expect(() =>
      loadConfig({ ...SECRETS, OPS_TOKEN_FILE: '/missing' }, () => {
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      }),
    ).toThrow(/`OPS_TOKEN` and `OPS_TOKEN_FILE`, got both/);
    expect(() =>
      loadConfig({ OPS_TOKEN_FILE: '/missing' }, () => {
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      }),
    ).toThrow('Expected `OPS_TOKEN_FILE` to name a readable file, got `/missing` (ENOENT)');
  });

  it('development keeps its defaults (documented in the README) and its simulator', () => {
    const config = loadConfig({});
    expect(config.mode).toBe('development');
    expect(config.adminKey).toBe(DEFAULT_CONFIG.adminKey);
    expect(config.paymentSimulator).toBe(true);
  });
});
