// The Node floor of a one-hop relay: bytes piped between each client connection and its own upstream
// connection, with no HTTP parsing at all. Set beside nginx (the same one hop in C) it separates what
// any Node relay pays for its reads and writes from what the proxy adds on top.
//   node --import tsx bench/tcp-pipe.ts --port P --to host:port
import net from 'node:net';

const argv = process.argv;
const val = (n: string): string => argv[argv.indexOf(`--${n}`) + 1] ?? '';
const [toHost, toPort] = val('to').split(':');

const server = net.createServer((client) => {
  client.setNoDelay(true);
  const upstream = net.connect({ host: toHost, port: Number(toPort), noDelay: true });
  client.pipe(upstream);
  upstream.pipe(client);
  const closeBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  for (const s of [client, upstream]) {
    s.on('error', closeBoth);
    s.on('close', closeBoth);
  }
});
server.listen(Number(val('port')), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`tcp-pipe listening on ${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
