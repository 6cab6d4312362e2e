/**
 * Waits for the pushes a real server starts on its own, for the real-server fixtures: `refreshtoken` (the server
 * sends one when the connection's token expires within a minute: start it with a short token lifetime, e.g.
 * shorttoken_expires_in=75s) and `queueclosed`/`exchangeclosed` (when it loses AMQP: stop RabbitMQ while this
 * runs). Not part of `npm test`.
 *
 *   npx tsx bench/realserver/pushes.ts <ws-url> <admin-user> <admin-password> [seconds]
 */
import { connect } from "../../runtime/index.js";

const [url, user, password, seconds] = process.argv.slice(2);
if (!url || !user || password === undefined) {
  process.stderr.write("usage: pushes.ts <ws-url> <admin-user> <admin-password> [seconds]\n");
  process.exit(2);
}
const RUN = `ofspush${Date.now().toString(36)}`;
const log = (o: object) => process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...o })}\n`);
const c = await connect(url, { username: user, password, reconnect: false, logger: { debug() {}, info() {}, warn() {}, error() {} } });
c.onTokenRefreshed(() => log({ push: "refreshtoken" }));
c.on("queueclosed", (e) => log({ push: "queueclosed", e }));
c.on("exchangeclosed", (e) => log({ push: "exchangeclosed", e }));
await c.consumeQueue(`${RUN}_q`, async () => undefined);
await c.consumeExchange({ exchangename: `${RUN}_x`, algorithm: "fanout" }, async () => undefined);
log({ ready: true });
await new Promise((r) => setTimeout(r, Number(seconds ?? 100) * 1000));
c.close();
process.exit(0);
