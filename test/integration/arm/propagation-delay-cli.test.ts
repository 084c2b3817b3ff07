import { afterAll, describe, expect, it } from 'vitest';
import { http } from '../../support/keyless.js';
import { serveKeyless, type ServedKeyless } from '../../support/cli.js';

/** `keyless serve --authz-propagation-delay`: the option reaches the server and is reported where the mode is. */
describe('serve --authz-propagation-delay', () => {
  let k: ServedKeyless | undefined;
  afterAll(async () => k?.stop());

  it('shows the delay in the ready line and /health; a bad value is refused before start', async () => {
    const bad = await serveKeyless(['--authz-propagation-delay', 'soon']).then(
      (s) => s.stop().then(() => 'started'),
      (e: Error) => e.message,
    );
    expect(bad).toContain('authzPropagationDelaySec must be whole seconds between 0 and 86400');
    k = await serveKeyless(['--authz-propagation-delay', '45']);
    expect(k.ready).toMatchObject({ authorization: 'enforce', authorizationPropagationDelaySec: 45 });
    const health = await http('GET', `${k.ready.endpoints.resourceManager}/health`);
    expect(health.json).toMatchObject({ authorization: 'enforce', authorizationPropagationDelaySec: 45 });
  }, 60_000);
});
