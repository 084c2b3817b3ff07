import type { StoredResource } from '../resources/index.js';

export const IMDS_VERSIONS = [
  '2017-03-01', '2017-04-02', '2017-08-01', '2017-10-01', '2017-12-01', '2018-02-01', '2018-04-02', '2018-10-01',
  '2019-02-01', '2019-03-11', '2019-04-30', '2019-06-01', '2019-06-04', '2019-08-01', '2019-08-15', '2019-11-01',
  '2020-06-01', '2020-07-15', '2020-09-01', '2020-10-01', '2020-12-01', '2021-01-01', '2021-02-01', '2021-03-01',
  '2021-05-01', '2021-10-01', '2021-11-01', '2021-11-15', '2021-12-13', '2023-07-01', '2023-11-15', '2024-03-15',
  '2024-07-17', '2025-04-07',
];

/** `/metadata/instance` for a VM: every primitive a string, absent values as "" (IMDS's rule). */
export function instanceMetadata(vm: StoredResource): Record<string, unknown> {
  const props = vm.body.properties ?? {};
  const hw = (props['hardwareProfile'] ?? {}) as Record<string, unknown>;
  const os = (props['osProfile'] ?? {}) as Record<string, unknown>;
  const tags = vm.body.tags ?? {};
  const group = vm.id.split('/')[4] ?? '';
  return {
    compute: {
      azEnvironment: 'AzurePublicCloud',
      location: vm.body.location ?? '',
      name: vm.name,
      offer: '',
      osType: String((props['storageProfile'] as Record<string, any> | undefined)?.['osDisk']?.['osType'] ?? 'Linux'),
      osProfile: { adminUsername: String(os['adminUsername'] ?? ''), computerName: String(os['computerName'] ?? vm.name), disablePasswordAuthentication: 'true' },
      placementGroupId: '',
      plan: { name: '', product: '', publisher: '' },
      platformFaultDomain: '0',
      platformUpdateDomain: '0',
      priority: '',
      provider: 'Microsoft.Compute',
      publicKeys: [],
      publisher: '',
      resourceGroupName: group,
      resourceId: vm.id,
      sku: '',
      subscriptionId: vm.subscriptionId,
      tags: Object.entries(tags).map(([k, v]) => `${k}:${v}`).join(';'),
      tagsList: Object.entries(tags).map(([name, value]) => ({ name, value })),
      userData: '',
      version: '',
      vmId: String(props['vmId'] ?? ''),
      vmScaleSetName: '',
      vmSize: String(hw['vmSize'] ?? ''),
      zone: '',
    },
    network: {
      interface: [
        {
          ipv4: { ipAddress: [{ privateIpAddress: vm.internal.imdsAddress ?? '', publicIpAddress: '' }], subnet: [{ address: '127.0.0.0', prefix: '8' }] },
          ipv6: { ipAddress: [] },
          macAddress: '000D3A000000',
        },
      ],
    },
  };
}
