/**
 * Client address lists at request time: deny first, then an allow list admits only its own. The lists are built once
 * per compiled policy (snapshots are immutable) with node:net's BlockList.
 */
import { BlockList } from 'node:net';
import { NEXT, REJECTED, type RequestPhase } from '../phase.ts';

const blockLists = new WeakMap<object, { allow?: BlockList; deny?: BlockList }>();

function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const type = address!.includes(':') ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(bits), type);
  }
  return list;
}

/** Whether the client address passes a rule's allow/deny lists (deny first; an allow list admits only its own). */
export function addressAllowed(
  policy: { readonly allow?: readonly string[]; readonly deny?: readonly string[] },
  remoteAddress: string | undefined,
): boolean {
  if (!remoteAddress) return false;
  let lists = blockLists.get(policy);
  if (!lists) {
    lists = {
      ...(policy.allow ? { allow: blockList(policy.allow) } : {}),
      ...(policy.deny ? { deny: blockList(policy.deny) } : {}),
    };
    blockLists.set(policy, lists);
  }
  // `::ffff:10.0.0.1` is an IPv4 client on a dual-stack socket.
  const v4 = remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
  const type = v4.includes(':') ? 'ipv6' : 'ipv4';
  if (lists.deny?.check(v4, type)) return false;
  return lists.allow ? lists.allow.check(v4, type) : true;
}

/** The phase: a client outside the lists gets 403. */
export const ipAccessPhase: RequestPhase = {
  name: 'ip',
  applies: (action) => action.ipAccess !== undefined,
  run(ctx) {
    const address = ctx.req.socket.remoteAddress;
    if (addressAllowed(ctx.action.ipAccess!, address)) return NEXT;
    ctx.fail('forbidden', `client address ${address} may not call this model API`);
    return REJECTED;
  },
};
