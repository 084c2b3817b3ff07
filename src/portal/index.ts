import type { IncomingMessage, ServerResponse } from 'node:http';
import { createPortalApp, type PortalDeps } from './app.js';

export type { PortalDeps } from './app.js';

export interface Portal {
  /** The `portal` surface's handler: `/portal…` on any plain host, and everything on `portal.<suffix>`. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/** The web portal (docs/portal.md). */
export async function createPortal(deps: PortalDeps): Promise<Portal> {
  const { app, close } = createPortalApp(deps);
  await app.ready();
  return {
    handle: (req, res) => app.routing(req, res),
    async close() {
      close();
      await app.close();
    },
  };
}
