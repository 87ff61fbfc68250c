// Which IP addresses the http node refuses when private networks are not allowed (HTTP_ALLOW_PRIVATE):
// every address that is not globally reachable unicast (the IANA special-purpose registries), and IPv6
// forms that carry an IPv4 address (mapped, SIIT, NAT64, 6to4) judged by the IPv4 address they carry.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const privateV4 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", incl. the unspecified 0.0.0.0 (which connects to this host)
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata endpoints live here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 3], // multicast, reserved (240/4) and broadcast
] as const) {
  privateV4.addSubnet(network, prefix, 'ipv4');
}

// IPv6 outside 2000::/3 (global unicast) is refused whole: unspecified, loopback, IPv4-compatible,
// discard (100::/64), local-use NAT64 (64:ff9b:1::/48), SRv6 (5f00::/16), unique-local, link-local,
// site-local, multicast. Inside it, these are not globally reachable:
const privateV6 = new BlockList();
for (const [network, prefix] of [
  ['2001::', 23], // IETF protocol assignments: Teredo (2001::/32, tunnels to IPv4), benchmarking, ORCHID
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
] as const) {
  privateV6.addSubnet(network, prefix, 'ipv6');
}
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The IPv4 address an IPv6 address carries as its destination (mapped, SIIT, NAT64, 6to4), or null. */
function embeddedIpv4(groups: number[]): string | null {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const dotted = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const zeros = (...words: (number | undefined)[]) => words.every((word) => word === 0);
  if (zeros(g0, g1, g2, g3, g4) && g5 === 0xffff) return dotted(g6, g7); // ::ffff:0:0/96, IPv4-mapped
  if (zeros(g0, g1, g2, g3, g5) && g4 === 0xffff) return dotted(g6, g7); // ::ffff:0:0:0/96, SIIT translated
  if (g0 === 0x64 && g1 === 0xff9b && zeros(g2, g3, g4, g5)) return dotted(g6, g7); // 64:ff9b::/96, NAT64
  if (g0 === 0x2002) return dotted(g1 ?? 0, g2 ?? 0); // 2002::/16, 6to4
  return null;
}

/**
 * Whether `address` is anything but a globally reachable unicast address: loopback, private,
 * link-local, unique-local, CGNAT, unspecified, multicast, broadcast, documentation, benchmarking,
 * reserved — also when carried inside an IPv6 address. An address with a zone id (`fe80::1%eth0`) is
 * scoped to a link, and anything that is not an IP address cannot be judged: both count as private.
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(bare)) return privateV4.check(bare, 'ipv4');
  if (!isIPv6(bare) || bare.includes('%')) return true;
  const groups = ipv6Groups(bare);
  const inner = embeddedIpv4(groups);
  if (inner !== null) return privateV4.check(inner, 'ipv4');
  const canonical = groups.map((group) => group.toString(16)).join(':');
  return !globalUnicast.check(canonical, 'ipv6') || privateV6.check(canonical, 'ipv6');
}
