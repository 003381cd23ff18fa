// A fake agent in its own process, so a test can SIGSTOP/SIGCONT it like a
// frozen machine: the real socket.io-client (websocket), clientAuth, one
// initPerfData, then a perfData with a growing `seq` every EVERY_MS.
//   node agent-proc.mjs URL KEY MAC EVERY_MS [LOCAL_ADDRESS]
import { io } from 'socket.io-client';

const [url, key, mac, everyMs, localAddress] = process.argv.slice(2);
const s = io(url, { transports: ['websocket'], localAddress: localAddress || undefined,
  reconnectionDelay: 100, reconnectionDelayMax: 500 });
let seq = 0;
const sample = () => ({ macA: mac, freeMem: 4e9, totalMem: 8e9, usedMem: 4e9, memUsage: 0.5,
  osType: 'Linux', upTime: 1234, cpuModel: 'Test CPU', numCores: 4, cpuSpeed: 2400,
  cpuLoad: 10, isActive: true, seq: ++seq });
s.on('connect', () => {
  s.emit('clientAuth', key);
  s.emit('initPerfData', sample());
  process.stdout.write('connected\n');
});
setInterval(() => { if (s.connected) s.emit('perfData', sample()); }, Number(everyMs));
process.on('SIGTERM', () => { s.close(); process.exit(0); });
