import type { AccessReview } from '../audit/access-review.js';
import { renderReview } from '../audit/render.js';
import type { Connection } from './connection.js';

/** `keyless access review`: granted vs. used per identity, with the least privilege that would have done. */
export async function runAccessReview(conn: Connection, o: { principal?: string; since?: string; json?: boolean }, write: (text: string) => void): Promise<AccessReview> {
  const q = new URLSearchParams({ since: o.since ?? '30d' });
  if (o.principal) q.set('principal', o.principal);
  const review = (await conn.arm('GET', `/keyless/v1/access/review?${q}`)) as AccessReview;
  write(o.json ? JSON.stringify(review, null, 2) : renderReview(review));
  return review;
}
