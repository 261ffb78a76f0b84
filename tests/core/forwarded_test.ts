/**
 * Trusted forwarding (`src/core/forwarded.ts`): CIDR matching for IPv4 and IPv6, the parsing of
 * `X-Forwarded-For` and `Forwarded` (RFC 7239), and the walk from the right that finds the client,
 * against spoofing: a client-supplied entry, several fields, garbage, IPv6 zones, an untrusted peer.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { clientHop, parseForwarded, parseXForwardedFor, TrustedAddresses } from "../../src/core/forwarded.ts";

describe("trusted addresses", () => {
  test("match addresses and CIDR blocks of both families, IPv4-mapped IPv6 as IPv4", () => {
    const trusted = new TrustedAddresses(["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1", "0.0.0.0/0"]);
    assert.ok(trusted.has("255.255.255.255"), "0.0.0.0/0 is every IPv4 address");
    const narrow = new TrustedAddresses([
      "10.0.0.0/8",
      "192.168.1.7",
      "2001:db8::/32",
      "::1",
      "172.16.0.0/12",
    ]);
    const cases: [string, boolean][] = [
      ["10.255.0.1", true],
      ["11.0.0.1", false],
      ["192.168.1.7", true],
      ["192.168.1.8", false],
      ["::ffff:192.168.1.7", true],
      ["172.31.255.255", true],
      ["172.32.0.0", false],
      ["2001:db8:ffff::1", true],
      ["2001:db9::1", false],
      ["::1", true],
      ["::2", false],
      ["fe80::1%eth0", false],
      ["not an address", false],
    ];
    for (const [address, expected] of cases) assert.equal(narrow.has(address), expected, address);
  });

  test("refuses entries that are not addresses or blocks", () => {
    for (const entry of ["10.0.0.0/33", "::/129", "example.test", "10.0.0.0/8/1", "1.2.3.4/x", ""]) {
      assert.throws(() => new TrustedAddresses([entry]), /is not an IP address or CIDR block/, entry);
    }
  });

  test("a /n block holds exactly the addresses that share its first n bits", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (base, other, bits) => {
        const number = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
        const same = bits === 0 ||
          Math.floor(number(base) / 2 ** (32 - bits)) === Math.floor(number(other) / 2 ** (32 - bits));
        assert.equal(new TrustedAddresses([`${base}/${bits}`]).has(other), same);
      }),
    );
  });
});

describe("forwarding fields", () => {
  test("X-Forwarded-For: a list over several fields, ports, and garbage as hops without an address", () => {
    const hops = parseXForwardedFor(["203.0.113.7:5555, garbage", " 2001:DB8::1 ,[::1]:80", "fe80::1%eth0"]);
    assert.deepEqual(hops.map(({ address, port }) => [address, port]), [
      ["203.0.113.7", 5555],
      [null, null],
      ["2001:db8::1", null],
      ["::1", 80],
      [null, null],
    ]);
  });

  test("Forwarded: elements with for, proto and host, quoted strings, and what does not parse", () => {
    const hops = parseForwarded([
      'for=192.0.2.60;proto=HTTP;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"',
      'for=unknown, for=_hidden;host="a.test", proto=https, for="bad;x',
      "for=1.2.3.4;oops",
    ]);
    assert.deepEqual(hops.map(({ address, port, proto, host }) => [address, port, proto, host]), [
      ["192.0.2.60", null, "http", null],
      ["2001:db8:cafe::17", 4711, null, null],
      [null, null, null, null],
      [null, null, null, "a.test"],
      [null, null, "https", null],
      [null, null, null, null],
      [null, null, null, null],
    ]);
  });
});

describe("the client of a request", () => {
  const trusted = new TrustedAddresses(["127.0.0.1", "10.0.0.0/8"]);
  const client = (peer: string, values: string[]) =>
    clientHop(peer, parseXForwardedFor(values), trusted)?.address ?? null;

  test("walks from the right past trusted proxies to the first untrusted hop", () => {
    assert.equal(client("127.0.0.1", ["203.0.113.7"]), "203.0.113.7");
    assert.equal(client("127.0.0.1", ["203.0.113.7, 10.0.0.2, 10.0.0.3"]), "203.0.113.7");
    assert.equal(client("127.0.0.1", ["10.0.0.9, 10.0.0.2"]), "10.0.0.9", "all trusted: the leftmost");
  });

  test("a spoofed entry from the client stays left of the real client and is never reached", () => {
    assert.equal(client("127.0.0.1", ["6.6.6.6, 203.0.113.7"]), "203.0.113.7");
    assert.equal(client("127.0.0.1", ["6.6.6.6", "203.0.113.7"]), "203.0.113.7", "several fields");
    assert.equal(client("127.0.0.1", ["10.0.0.5, 203.0.113.7"]), "203.0.113.7", "a trusted-looking spoof");
  });

  test("an untrusted peer is the client; garbage and zones end the walk", () => {
    assert.equal(client("198.51.100.1", ["203.0.113.7"]), null);
    assert.equal(client("127.0.0.1", ["203.0.113.7, garbage"]), null);
    assert.equal(client("127.0.0.1", ["fe80::1%eth0"]), null);
    assert.equal(client("127.0.0.1", []), null);
  });

  test("a hop count trusts that many proxies from the right", () => {
    const hops = parseXForwardedFor(["6.6.6.6, 203.0.113.7, 10.0.0.2"]);
    assert.equal(clientHop("10.0.0.3", hops, 1)?.address, "10.0.0.2");
    assert.equal(clientHop("10.0.0.3", hops, 2)?.address, "203.0.113.7");
    assert.equal(clientHop("10.0.0.3", hops, 9)?.address, "6.6.6.6");
    assert.equal(clientHop("10.0.0.3", hops, 0), null);
  });

  test("whatever the fields say, the client is the peer or one of the hops they name", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.ipV4(), fc.constantFrom("10.0.0.1", "127.0.0.1", "x", ""))),
        (items) => {
          const hops = parseXForwardedFor([items.join(",")]);
          const hop = clientHop("127.0.0.1", hops, trusted);
          assert.ok(hop === null || hops.includes(hop));
          // Never a hop left of an untrusted one.
          if (hop !== null) {
            const index = hops.indexOf(hop);
            assert.ok(
              hops.slice(index + 1).every((later) => later.address !== null && trusted.has(later.address)),
            );
          }
        },
      ),
    );
  });
});
