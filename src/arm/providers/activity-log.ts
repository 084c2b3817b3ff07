import type { AuditEvent, AuditPage, AuditQuery } from '../../audit/types.js';
import { tryParseScope } from '../../core/scope.js';
import { repos } from '../../store/index.js';
import type { ArmRequest, ArmResponse, ProviderHandler } from '../context.js';
import { armError, subscriptionNotFound } from '../errors.js';

/**
 * Azure Monitor's activity log, `GET /subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values`
 * (api-version 2015-04-01), over the audit trail's activity category. The path parses as the collection
 * `Microsoft.Insights/eventtypes/values` under the parent name `management`, so this is that type's listPage.
 *
 * The caller needs `Microsoft.Insights/eventtypes/values/read` at the subscription (Reader has it); events on
 * scopes a deny assignment hides from the caller are left out. Newest first, 200 a page, `nextLink` to go on.
 */
export const ACTIVITY_LOG_READ = 'Microsoft.Insights/eventtypes/values/read';
const PAGE = 200;

export interface ActivityLogDeps {
  query(q: AuditQuery): Promise<AuditPage>;
}

export function activityLogProvider(deps: ActivityLogDeps): ProviderHandler {
  return {
    type: 'Microsoft.Insights/eventtypes/values',
    authorizesItself: true,
    actionFor: () => ACTIVITY_LOG_READ,
    async listPage(req: ArmRequest): Promise<ArmResponse> {
      const { route } = req;
      const sub = route.subscriptionId;
      if (!sub || route.group !== undefined || !/\/eventtypes\/management\/values$/i.test(route.id) || route.scope.split('/').length !== 3) {
        throw armError(404, 'InvalidResourceType', `The resource type could not be found for 'GET ${route.id}'.`);
      }
      if (!(await repos.subscriptions.get(req.deps.store.db, sub))) throw subscriptionNotFound(sub);
      const subscriptionScope = `/subscriptions/${sub}`;
      req.authorize(ACTIVITY_LOG_READ, subscriptionScope);

      const filter = parseActivityFilter(req.query['$filter']);
      const select = parseSelect(req.query['$select']);
      const before = parseSkipToken(req.query['$skiptoken']);
      const page = await deps.query({
        categories: ['activity'],
        subscriptionId: sub,
        since: filter.since,
        until: filter.until,
        resourceGroup: filter.resourceGroup,
        resourceId: filter.resourceUri,
        principal: filter.caller,
        correlationId: filter.correlationId,
        status: filter.status,
        order: 'desc',
        before,
        limit: PAGE,
      });

      // Readability per scope, asked once per distinct scope on the page.
      const readable = new Map<string, boolean>();
      const mayRead = (scope: string | undefined): boolean => {
        const s = scope && tryParseScope(scope) ? scope : subscriptionScope;
        const key = s.toLowerCase();
        let ok = readable.get(key);
        if (ok === undefined) {
          ok = req.deps.access.check({ principalId: req.caller.objectId, action: ACTIVITY_LOG_READ, isDataAction: false, scope: s }).allowed;
          readable.set(key, ok);
        }
        return ok;
      };
      const provider = filter.resourceProvider?.toLowerCase();
      const value = page.events
        .filter((e) => mayRead(e.scope))
        .filter((e) => provider === undefined || e.operation.toLowerCase().startsWith(provider + '/'))
        .map((e) => project(eventData(e, req.caller.tenantId), select));

      const body: { value: unknown[]; nextLink?: string } = { value };
      if (page.next !== undefined) {
        // Parameter names stay literal (`$filter`, not `%24filter`), as in Azure's links.
        const q = [`api-version=${encodeURIComponent(req.apiVersion)}`];
        for (const name of ['$filter', '$select']) if (req.query[name]) q.push(`${name}=${encodeURIComponent(req.query[name]!)}`);
        q.push(`$skiptoken=${page.next}`);
        body.nextLink = `${req.deps.endpoints.resourceManager}${route.id}?${q.join('&')}`;
      }
      return { status: 200, body };
    },
  };
}

export interface ActivityFilter {
  since: number;
  until: number | undefined;
  resourceGroup?: string;
  resourceUri?: string;
  caller?: string;
  correlationId?: string;
  resourceProvider?: string;
  status?: 'succeeded' | 'failed';
}

const badFilter = (why: string) =>
  armError(
    400,
    'BadRequest',
    `The $filter query parameter is invalid: ${why}. Supported: eventTimestamp ge '<start>' [and eventTimestamp le '<end>'] [and resourceGroupName eq '<name>' | resourceUri eq '<id>' | resourceProvider eq '<namespace>' | correlationId eq '<id>' | caller eq '<principal>' | status eq 'Succeeded|Failed'], joined with 'and'.`,
  );

/**
 * The activity log's restricted `$filter`: comparisons joined by `and`, values in single quotes (`''` escapes a
 * quote). `eventTimestamp ge` is required, as in Azure; `eventChannels` is accepted and ignored.
 */
export function parseActivityFilter(raw: string | undefined): ActivityFilter {
  if (raw === undefined || raw.trim() === '') throw badFilter("it is required and must include eventTimestamp ge '<start time>'");
  const clauses: { field: string; op: string; value: string }[] = [];
  const re = /\s*([A-Za-z]+)\s+(eq|ge|le|gt|lt)\s+(?:'((?:[^']|'')*)'|([^\s']+))\s*(?:\s(and)\s|$)/iy;
  let pos = 0;
  while (pos < raw.length) {
    re.lastIndex = pos;
    const m = re.exec(raw);
    if (!m) throw badFilter(`cannot parse '${raw.slice(pos).trim()}'`);
    clauses.push({ field: m[1]!.toLowerCase(), op: m[2]!.toLowerCase(), value: m[3] !== undefined ? m[3].replace(/''/g, "'") : m[4]! });
    pos = re.lastIndex;
    if (m[5] === undefined && pos < raw.length) throw badFilter(`expected 'and' before '${raw.slice(pos).trim()}'`);
  }
  const out: Partial<ActivityFilter> = {};
  for (const c of clauses) {
    const eq = () => {
      if (c.op !== 'eq') throw badFilter(`'${c.field}' supports only eq`);
      return c.value;
    };
    switch (c.field) {
      case 'eventtimestamp': {
        const t = Date.parse(c.value);
        if (Number.isNaN(t)) throw badFilter(`'${c.value}' is not a valid eventTimestamp`);
        if (c.op === 'ge' || c.op === 'gt') out.since = c.op === 'gt' ? t + 1 : t;
        else if (c.op === 'le' || c.op === 'lt') out.until = c.op === 'lt' ? t - 1 : t;
        else throw badFilter('eventTimestamp supports ge, gt, le and lt');
        break;
      }
      case 'resourcegroupname':
        out.resourceGroup = eq();
        break;
      case 'resourceuri':
      case 'resourceid':
        out.resourceUri = eq();
        break;
      case 'caller':
        out.caller = eq();
        break;
      case 'correlationid':
        out.correlationId = eq();
        break;
      case 'resourceprovider':
        out.resourceProvider = eq();
        break;
      case 'status': {
        const v = eq().toLowerCase();
        if (v !== 'succeeded' && v !== 'failed') throw badFilter(`status must be 'Succeeded' or 'Failed'`);
        out.status = v;
        break;
      }
      case 'eventchannels':
        eq();
        break;
      default:
        throw badFilter(`'${c.field}' is not a supported property`);
    }
  }
  if (out.since === undefined) throw badFilter("it must include eventTimestamp ge '<start time>'");
  if (out.until !== undefined && out.until < out.since) throw badFilter('the end time is before the start time');
  return out as ActivityFilter;
}

const SELECTABLE = [
  'authorization',
  'caller',
  'category',
  'claims',
  'correlationId',
  'description',
  'eventDataId',
  'eventName',
  'eventTimestamp',
  'httpRequest',
  'id',
  'level',
  'operationId',
  'operationName',
  'properties',
  'resourceGroupName',
  'resourceId',
  'resourceProviderName',
  'resourceType',
  'status',
  'subStatus',
  'submissionTimestamp',
  'subscriptionId',
  'tenantId',
];

function parseSelect(raw: string | undefined): Set<string> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const byLower = new Map(SELECTABLE.map((n) => [n.toLowerCase(), n]));
  const out = new Set<string>();
  for (const part of raw.split(',')) {
    const name = byLower.get(part.trim().toLowerCase());
    if (!name) throw armError(400, 'BadRequest', `The $select query parameter is invalid: '${part.trim()}' is not a property of EventData.`);
    out.add(name);
  }
  return out;
}

function parseSkipToken(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw armError(400, 'BadRequest', 'The $skiptoken query parameter is invalid.');
  return Number(raw);
}

function project(e: Record<string, unknown>, select: Set<string> | undefined): Record<string, unknown> {
  if (!select) return e;
  return Object.fromEntries(Object.entries(e).filter(([k]) => select.has(k)));
}

const STATUS_NAMES: Record<number, [string, string]> = {
  200: ['OK', 'OK'],
  201: ['Created', 'Created'],
  202: ['Accepted', 'Accepted'],
  204: ['NoContent', 'No Content'],
  400: ['BadRequest', 'Bad Request'],
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'Forbidden'],
  404: ['NotFound', 'Not Found'],
  405: ['MethodNotAllowed', 'Method Not Allowed'],
  409: ['Conflict', 'Conflict'],
  412: ['PreconditionFailed', 'Precondition Failed'],
  413: ['RequestEntityTooLarge', 'Request Entity Too Large'],
  429: ['TooManyRequests', 'Too Many Requests'],
  500: ['InternalServerError', 'Internal Server Error'],
  503: ['ServiceUnavailable', 'Service Unavailable'],
};

const localizable = (value: string, localizedValue = value) => ({ value, localizedValue });
/** .NET ticks (100 ns since 0001-01-01), which Azure puts in event ids. */
const ticks = (ms: number): string => (BigInt(ms) * 10_000n + 621_355_968_000_000_000n).toString();

/** Azure's EventData for one stored activity event (shape: azure-rest-api-specs, monitor 2015-04-01 activityLogs_API.json). */
export function eventData(e: AuditEvent, tenantId: string): Record<string, unknown> {
  const d = e.details;
  const str = (k: string): string | undefined => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const resourceId = e.scope ?? '';
  const parsed = tryParseScope(resourceId);
  const type = parsed?.resourceType ?? '';
  const namespace = type.split('/')[0] ?? '';
  const status = e.httpStatus ?? 0;
  const [subValue, subText] = STATUS_NAMES[status] ?? [String(status), String(status)];
  const succeeded = e.result === 'succeeded';
  const timestamp = new Date(e.at).toISOString();
  const properties: Record<string, string> = { statusCode: subValue };
  if (str('requestId')) properties['serviceRequestId'] = str('requestId')!;
  const error = d['error'] as { code?: string; message?: string } | undefined;
  if (error) properties['statusMessage'] = JSON.stringify({ error: { code: error.code, message: error.message } });
  if (str('summary')) properties['keylessAuthorizationSummary'] = str('summary')!;
  if (d['explanation'] !== undefined) properties['keylessAuthorizationExplanation'] = JSON.stringify(d['explanation']);
  const httpRequest: Record<string, string> = { method: str('method') ?? '' };
  if (str('clientRequestId')) httpRequest['clientRequestId'] = str('clientRequestId')!;
  if (str('clientIp')) httpRequest['clientIpAddress'] = str('clientIp')!;
  return {
    authorization: { action: e.operation, scope: str('authorizationScope') ?? resourceId },
    caller: str('caller') ?? e.principalId ?? '',
    category: localizable('Administrative'),
    claims: (d['claims'] as Record<string, string> | undefined) ?? {},
    correlationId: e.correlationId ?? '',
    description: '',
    eventDataId: e.id,
    eventName: localizable('EndRequest', 'End request'),
    eventTimestamp: timestamp,
    httpRequest,
    id: `${resourceId}/events/${e.id}/ticks/${ticks(e.at)}`,
    level: succeeded ? 'Informational' : 'Error',
    operationId: e.correlationId ?? e.id,
    operationName: localizable(e.operation),
    properties,
    resourceGroupName: str('resourceGroupName') ?? parsed?.resourceGroup ?? '',
    resourceId,
    resourceProviderName: localizable(namespace),
    resourceType: localizable(type),
    status: localizable(succeeded ? 'Succeeded' : 'Failed'),
    subStatus: localizable(subValue, `${subText} (HTTP Status Code: ${status})`),
    submissionTimestamp: timestamp,
    subscriptionId: str('subscriptionId') ?? e.subscriptionId ?? '',
    tenantId,
  };
}
