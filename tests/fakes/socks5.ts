/**
 * A minimal SOCKS server on 127.0.0.1 (RFC 1928 CONNECT, RFC 1929 username/password when
 * asked for, and SOCKS4/4a CONNECT): each tunnel is recorded as "host:port" with the version,
 * the address type the client sent and the user it authenticated as.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SocksTunnel {
  version: 4 | 5;
  /** what the client asked to reach, as it sent it (a name when the proxy is to resolve it) */
  target: string;
  addressType: 'ipv4' | 'domain' | 'ipv6';
  user?: string;
}

export interface SocksServer {
  url: string;
  port: number;
  tunnels: SocksTunnel[];
  close(): Promise<void>;
}

/** with `auth`, SOCKS5 clients must log in with it (wrong credentials are refused) */
export async function startSocksServer(auth?: { user: string; password: string }): Promise<SocksServer> {
  const tunnels: SocksTunnel[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buf = Buffer.alloc(0);
    let stage: 'hello' | 'login' | 'request' | 'open' = 'hello';
    let user: string | undefined;

    const open = (version: 4 | 5, host: string, port: number, addressType: SocksTunnel['addressType']) => {
      stage = 'open';
      client.pause();
      tunnels.push({ version, target: `${host}:${port}`, addressType, ...(user ? { user } : {}) });
      const up = net.connect(port, host, () => {
        client.write(version === 5 ? Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]) : Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0]));
        if (buf.length) up.write(buf);
        up.pipe(client);
        client.pipe(up);
        client.resume();
      });
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      up.on('error', () => {
        if (!client.destroyed) client.end(version === 5 ? Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]) : Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]));
      });
      client.on('close', () => up.destroy());
    };

    const step = (): boolean => {
      if (stage === 'hello') {
        if (buf[0] === 4) {
          // SOCKS4: VN CD DSTPORT(2) DSTIP(4) USERID\0 [HOST\0 when DSTIP is 0.0.0.x: 4a]
          const userEnd = buf.indexOf(0, 8);
          if (userEnd < 0) return false;
          user = buf.subarray(8, userEnd).toString() || undefined;
          const port = buf.readUInt16BE(2);
          const ip = [...buf.subarray(4, 8)].join('.');
          if (ip.startsWith('0.0.0.') && ip !== '0.0.0.0') {
            const hostEnd = buf.indexOf(0, userEnd + 1);
            if (hostEnd < 0) return false;
            const host = buf.subarray(userEnd + 1, hostEnd).toString();
            buf = buf.subarray(hostEnd + 1);
            open(4, host, port, 'domain');
          } else {
            buf = buf.subarray(userEnd + 1);
            open(4, ip, port, 'ipv4');
          }
          return false;
        }
        if (buf.length < 2 || buf.length < 2 + buf[1]!) return false;
        const methods = [...buf.subarray(2, 2 + buf[1]!)];
        buf = buf.subarray(2 + buf[1]!);
        const method = auth ? 2 : 0;
        if (!methods.includes(method)) {
          client.end(Buffer.from([5, 0xff]));
          return false;
        }
        client.write(Buffer.from([5, method]));
        stage = auth ? 'login' : 'request';
        return true;
      }
      if (stage === 'login') {
        // VER ULEN UNAME PLEN PASSWD
        if (buf.length < 2) return false;
        const ulen = buf[1]!;
        if (buf.length < 3 + ulen || buf.length < 3 + ulen + buf[2 + ulen]!) return false;
        const name = buf.subarray(2, 2 + ulen).toString();
        const plen = buf[2 + ulen]!;
        const password = buf.subarray(3 + ulen, 3 + ulen + plen).toString();
        buf = buf.subarray(3 + ulen + plen);
        if (name !== auth!.user || password !== auth!.password) {
          client.end(Buffer.from([1, 1]));
          return false;
        }
        user = name;
        client.write(Buffer.from([1, 0]));
        stage = 'request';
        return true;
      }
      if (stage === 'request') {
        // VER CMD RSV ATYP DST.ADDR DST.PORT
        if (buf.length < 5) return false;
        const atyp = buf[3]!;
        const addrLen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buf[4]!;
        if (buf.length < 4 + addrLen + 2) return false;
        let host: string;
        if (atyp === 1) host = [...buf.subarray(4, 8)].join('.');
        else if (atyp === 4) host = (buf.subarray(4, 20).toString('hex').match(/.{4}/g) ?? []).join(':');
        else host = buf.subarray(5, 5 + buf[4]!).toString();
        const port = buf.readUInt16BE(4 + addrLen);
        const cmd = buf[1];
        buf = buf.subarray(4 + addrLen + 2);
        if (cmd !== 1) {
          client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
          return false;
        }
        open(5, host, port, atyp === 1 ? 'ipv4' : atyp === 4 ? 'ipv6' : 'domain');
        return false;
      }
      return false;
    };

    client.on('data', (d: Buffer) => {
      if (stage === 'open') return;
      buf = Buffer.concat([buf, d]);
      while (step());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `socks5://127.0.0.1:${port}`,
    port,
    tunnels,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
