// The http node's private-network guard. Names are judged where the connection is made: an undici
// Agent whose DNS lookup refuses private answers, so the address checked is the address connected to
// and DNS rebinding cannot slip past. IP literals never reach a lookup; `refuseLiteral` judges them.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { NonRetriableError } from '../errors.js';
import { isPrivateAddress } from './private-address.js';

/** Resolves a host name to every address it has (`dns.promises.lookup` with `all: true`). */
export type LookupAll = (hostname: string) => Promise<{ address: string; family?: number }[]>;

export const systemLookup: LookupAll = (hostname) => dnsLookup(hostname, { all: true });

const NOT_ALLOWED = '(private networks are not allowed: HTTP_ALLOW_PRIVATE)';

/** A request refused before anything was sent, because its host is or resolves to a private address. */
export class PrivateAddressError extends NonRetriableError {
  override name = 'PrivateAddressError';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      host === address
        ? `${host} is a private address ${NOT_ALLOWED}`
        : `${host} resolves to the private address ${address} ${NOT_ALLOWED}`,
    );
  }
}

/** Throws a PrivateAddressError when the URL's host is an IP literal that `isPrivate` refuses. */
export function refuseLiteral(url: URL, isPrivate: (address: string) => boolean): void {
  // WHATWG URL parsing already turned 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 into 127.0.0.1 and
  // compressed IPv6; what net.isIP does not call an address, net.connect sends to the lookup below.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0 && isPrivate(host)) throw new PrivateAddressError(host, host);
}

/**
 * A `net.connect` lookup on `resolve` that fails with a PrivateAddressError when any answer is private
 * (a name with one private answer is refused, whichever answer the connection would have tried first).
 */
function guardedLookup(resolve: LookupAll, isPrivate: (address: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    const judged = Promise.resolve(hostname).then(resolve).then((answers) => {
      if (answers.length === 0) throw new Error(`${hostname} resolves to no address`);
      const refused = answers.find((answer) => isPrivate(answer.address));
      if (refused) throw new PrivateAddressError(hostname, refused.address);
      const all = answers.map(({ address, family }) => ({ address, family: family ?? isIP(address) }));
      const wanted = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
      if (wanted.length === 0) throw new Error(`${hostname} has no IPv${options.family} address`);
      return wanted;
    });
    judged.then(
      (answers) => (options.all ? callback(null, answers) : callback(null, answers[0]!.address, answers[0]!.family)),
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

/**
 * The dispatcher the http node sends through: every connection it opens resolves its host with
 * `resolve` and, unless `isPrivate` is absent (private networks allowed), connects only to answers
 * that were checked. Connections are pooled per origin, so a kept-alive socket was checked when made.
 */
export function createHttpAgent(resolve: LookupAll, isPrivate?: (address: string) => boolean): Agent {
  const lookup = guardedLookup(resolve, isPrivate ?? (() => false));
  return new Agent({ connect: { lookup } });
}

/** The policy of a node type: the real classifier, with `treatAsPublic` (tests only) counted public. */
export function privatePolicy(treatAsPublic: readonly string[] = []): (address: string) => boolean {
  const exempt = new Set(treatAsPublic);
  return (address) => !exempt.has(address) && isPrivateAddress(address);
}
