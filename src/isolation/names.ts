import { createHash, randomBytes } from 'node:crypto';

/**
 * Every OS object an isolated-VM session creates carries a Keyless prefix, the server id and the session id,
 * so a sweep can find what a crashed CLI or a previous server run left behind without any record of it.
 * Interface names are at most 15 bytes (IFNAMSIZ), hence the short veth form.
 */
export const NETNS_PREFIX = 'keyless-';
export const VETH_PREFIX = 'kl';
export const NFT_PREFIX = 'keyless_';
/** The namespace-side table lives and dies with its namespace, so it needs no unique name. */
export const NAMESPACE_NFT_TABLE = 'keyless_vm';

const HEX = /^[0-9a-f]+$/;
const SERVER_ID_LEN = 6;
const SESSION_ID_LEN = 4;

export interface SessionNames {
  serverId: string;
  sessionId: string;
  /** `ip netns` name; also the directory under /etc/netns that `ip netns exec` bind-mounts over /etc. */
  netns: string;
  vethHost: string;
  vethNs: string;
  /** Host-side nftables table (family ip). */
  nftTable: string;
}

/** A stable short id for a server, from its tenant id (one per data directory). */
export function serverIdFor(tenantId: string): string {
  return createHash('sha256').update(tenantId.toLowerCase()).digest('hex').slice(0, SERVER_ID_LEN);
}

export function newSessionId(): string {
  return randomBytes(SESSION_ID_LEN / 2).toString('hex');
}

export function sessionNames(serverId: string, sessionId: string): SessionNames {
  if (serverId.length !== SERVER_ID_LEN || !HEX.test(serverId)) throw new Error(`invalid isolation server id '${serverId}'`);
  if (sessionId.length !== SESSION_ID_LEN || !HEX.test(sessionId)) throw new Error(`invalid isolation session id '${sessionId}'`);
  return {
    serverId,
    sessionId,
    netns: `${NETNS_PREFIX}${serverId}-${sessionId}`,
    vethHost: `${VETH_PREFIX}${serverId}${sessionId}h`,
    vethNs: `${VETH_PREFIX}${serverId}${sessionId}n`,
    nftTable: `${NFT_PREFIX}${serverId}_${sessionId}`,
  };
}

type Ids = { serverId: string; sessionId: string };

const NETNS_RE = new RegExp(`^${NETNS_PREFIX}([0-9a-f]{${SERVER_ID_LEN}})-([0-9a-f]{${SESSION_ID_LEN}})$`);
const VETH_RE = new RegExp(`^${VETH_PREFIX}([0-9a-f]{${SERVER_ID_LEN}})([0-9a-f]{${SESSION_ID_LEN}})[hn]$`);
const NFT_RE = new RegExp(`^${NFT_PREFIX}([0-9a-f]{${SERVER_ID_LEN}})_([0-9a-f]{${SESSION_ID_LEN}})$`);

function parseWith(re: RegExp, name: string): Ids | undefined {
  const m = re.exec(name);
  return m ? { serverId: m[1]!, sessionId: m[2]! } : undefined;
}

export const parseNetnsName = (name: string): Ids | undefined => parseWith(NETNS_RE, name);
export const parseVethName = (name: string): Ids | undefined => parseWith(VETH_RE, name);
export const parseNftTableName = (name: string): Ids | undefined => parseWith(NFT_RE, name);
