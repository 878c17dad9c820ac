import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { budgetKey, sourceOf, trustedProxies } from '../src/http/authenticate.js';

// The address the failure budget counts against: the socket's peer, or past trusted proxies the address the
// nearest of them saw (X-Forwarded-For, right to left).
const request = (peer: string | undefined, forwarded?: string) =>
  ({
    socket: { remoteAddress: peer },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  }) as unknown as IncomingMessage;

describe('sourceOf', () => {
  const proxies = trustedProxies(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);

  it('is the peer when no proxy is trusted, whatever the header says', () => {
    expect(sourceOf(request('198.51.100.7', '203.0.113.9'))).toBe('198.51.100.7');
    expect(sourceOf(request('::ffff:198.51.100.7'))).toBe('198.51.100.7');
    expect(sourceOf(request('2001:DB8::1'))).toBe('2001:db8:0:0::/64');
  });

  it('is the peer when the peer is not a trusted proxy', () => {
    expect(sourceOf(request('198.51.100.7', '203.0.113.9'), proxies)).toBe('198.51.100.7');
  });

  it('walks the header from the right past trusted hops to the first address that is not one', () => {
    expect(sourceOf(request('10.1.2.3', '203.0.113.9'), proxies)).toBe('203.0.113.9');
    expect(sourceOf(request('::ffff:10.1.2.3', '6.6.6.6, 203.0.113.9, 10.9.9.9'), proxies)).toBe(
      '203.0.113.9',
    );
    expect(sourceOf(request('fd00::5', '2001:db8:aa:bb:cc::7'), proxies)).toBe('2001:db8:aa:bb::/64');
    expect(sourceOf(request('127.0.0.1', ' 203.0.113.9 ,10.0.0.2 '), proxies)).toBe('203.0.113.9');
  });

  it('stops at the last address read when an entry is not an address, or when every hop is trusted', () => {
    expect(sourceOf(request('10.1.2.3', '203.0.113.9, unknown'), proxies)).toBe('10.1.2.3');
    expect(sourceOf(request('10.1.2.3', '203.0.113.9:4711, 10.0.0.2'), proxies)).toBe('10.0.0.2');
    expect(sourceOf(request('10.1.2.3', '10.0.0.2, 10.0.0.1'), proxies)).toBe('10.0.0.2');
    expect(sourceOf(request('10.1.2.3', ''), proxies)).toBe('10.1.2.3');
    expect(sourceOf(request('10.1.2.3'), proxies)).toBe('10.1.2.3');
  });

  it('reads at most 16 hops, so a header of thousands of trusted-looking entries costs a bounded walk', () => {
    const header = ['203.0.113.9', ...Array.from({ length: 5000 }, () => '10.0.0.1')].join(',');
    expect(sourceOf(request('10.1.2.3', header), proxies)).toBe('10.0.0.1');
  });

  it('answers "unknown" for a socket that has already closed', () => {
    expect(sourceOf(request(undefined), proxies)).toBe('unknown');
  });
});

describe('budgetKey', () => {
  it('is an IPv4 address itself, and the /64 network of an IPv6 one, in every spelling', () => {
    expect(budgetKey('203.0.113.9')).toBe('203.0.113.9');
    for (const spelling of [
      '2001:db8:1:2::9',
      '2001:0DB8:0001:0002:0:0:0:ffff',
      '2001:db8:1:2:3:4:5:6',
      '2001:db8:1:2::1.2.3.4',
      '2001:db8:1:2::1%eth0',
    ]) {
      expect(budgetKey(spelling)).toBe('2001:db8:1:2::/64');
    }
    expect(budgetKey('::1')).toBe('0:0:0:0::/64');
    expect(budgetKey('::')).toBe('0:0:0:0::/64');
    expect(budgetKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(budgetKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('trustedProxies', () => {
  it('takes addresses and CIDR ranges of both families', () => {
    const list = trustedProxies(['192.168.0.0/16', '::1', '::ffff:172.16.0.1']);
    expect(list.check('192.168.44.1', 'ipv4')).toBe(true);
    expect(list.check('::1', 'ipv6')).toBe(true);
    expect(list.check('172.16.0.1', 'ipv4')).toBe(true);
    expect(list.check('192.169.0.1', 'ipv4')).toBe(false);
  });

  it.each(['10.0.0.300', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/8', 'proxy.internal', '10.0.0.0/x', ''])(
    'refuses %j, naming it',
    (entry) => {
      expect(() => trustedProxies([entry])).toThrow(
        new RegExp(`trusted proxy ${JSON.stringify(entry).replace(/[.*/[\]]/g, '\\$&')}`),
      );
    },
  );
});
