import type { Clock } from '../core/clock.js';
import type { Directory, Principal } from '../directory/index.js';
import type { ClientAssertionVerifier } from '../login/app.js';
import type { ResourceService } from '../resources/index.js';
import { verifyCertificateAssertion } from './certificate-assertion.js';
import { applicationNotFound, malformedAssertion } from './errors.js';
import { verifyFederatedAssertion } from './federated-assertion.js';
import { FIC_TYPE_KEY, ficFromDocument, type FicRecord } from './fic-rules.js';
import type { IssuerKeySource } from './issuer-keys.js';
import type { JtiReplayGuard } from './jti-guard.js';
import { decodeJwt, MalformedJwtError, stringClaim } from './jwt.js';
import type { TokenEndpointAudience } from './token-endpoint-audience.js';

export interface AssertionVerifierDeps {
  tenantId: string;
  clock: Clock;
  directory: Directory;
  resources: ResourceService;
  keys: IssuerKeySource;
  audience: TokenEndpointAudience;
  jti: JtiReplayGuard;
  /** Default 300 s, Entra's tolerance. */
  skewSec?: number;
  /** Default 3600 s. */
  maxCertificateAssertionLifetimeSec?: number;
}

/**
 * The token endpoint's `client_assertion` check. A self-issued assertion (`iss` = the client id) from an
 * application is a certificate credential; anything else is an external token to be matched against the
 * client's federated identity credentials — for a user-assigned identity, the ones under it in ARM.
 */
export class AssertionVerifier implements ClientAssertionVerifier {
  private readonly skewSec: number;

  constructor(private readonly deps: AssertionVerifierDeps) {
    this.skewSec = deps.skewSec ?? 300;
  }

  async verify(input: { clientId: string; assertion: string; tokenEndpoint: string }): Promise<{ principal: Principal; clientAuth: 'certificate' | 'federated' }> {
    let jwt;
    try {
      jwt = decodeJwt(input.assertion);
    } catch (e) {
      if (e instanceof MalformedJwtError) throw malformedAssertion(e.message);
      throw e;
    }
    const principal = await this.deps.directory.getByAppId(input.clientId);
    if (!principal) throw applicationNotFound(input.clientId, this.deps.tenantId);

    if (principal.kind === 'Application' && stringClaim(jwt.payload, 'iss')?.toLowerCase() === principal.appId) {
      await verifyCertificateAssertion(jwt, input.assertion, principal, input.tokenEndpoint, {
        clock: this.deps.clock,
        skewSec: this.skewSec,
        maxRemainingLifetimeSec: this.deps.maxCertificateAssertionLifetimeSec ?? 3600,
        audience: this.deps.audience,
        jti: this.deps.jti,
        certificates: (oid) => this.deps.directory.certificates(oid),
      });
      return { principal, clientAuth: 'certificate' };
    }
    await verifyFederatedAssertion(jwt, await this.federatedCredentials(principal), { keys: this.deps.keys, clock: this.deps.clock, skewSec: this.skewSec });
    return { principal, clientAuth: 'federated' };
  }

  /** Only user-assigned identities carry FICs in Keyless (applications' FICs live in Graph, which is not served). */
  async federatedCredentials(principal: Principal): Promise<FicRecord[]> {
    if (principal.kind !== 'UserAssigned' || !principal.resourceId) return [];
    const docs = await this.deps.resources.list({ parentKey: principal.resourceId.toLowerCase(), typeKey: FIC_TYPE_KEY });
    return docs.map((d) => ficFromDocument(d.body)).filter((f): f is FicRecord => f !== undefined);
  }
}
