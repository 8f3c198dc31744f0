// A lab stack's control plane: two BGP-LS speakers exporting the same IGP domain (as R1 and R6
// would) and a real ExaBGP dialling both, running the plugin. The speakers always live in this
// process (the tests announce and withdraw through them). ExaBGP runs in the root namespace on
// loopback (LabStack), or inside a lab host's namespace (FleetStack: the plugin then serves on
// that host's lab address), where it reaches the speakers through a bridge (nsbridge.ts).
import { BgpLsSpeaker } from "./speaker/speaker.js";
import type { LsTopology } from "./speaker/topology.js";
import { startExabgp, type ExabgpHandle, type ExabgpProgram } from "./exabgp.js";
import { bridgeIntoNamespace, type NsBridge } from "./nsbridge.js";
import type { Lab } from "./netns.js";

export interface ControlPlaneOptions {
  ls: LsTopology;
  /** argv of the API process (the plugin); argv[0] absolute. */
  processCommand: string[];
  /** The ExaBGP to run (default Debian's 4.2). */
  exabgp?: ExabgpProgram;
  /** Run ExaBGP (and the plugin) in this lab node's namespace; `dir` holds the bridge's sockets. */
  inNamespace?: { lab: Lab; node: string; dir: string };
}

/** The speakers' loopback addresses as ExaBGP dials them (one neighbor each). */
const PEERS = ["127.0.0.1", "127.0.0.6"];

export class ControlPlane {
  readonly speakers: BgpLsSpeaker[] = [];
  exabgp?: ExabgpHandle;
  private bridge?: NsBridge;

  private constructor() {}

  /** Speakers listening, ExaBGP up with both sessions established, the topology announced. */
  static async start(o: ControlPlaneOptions): Promise<ControlPlane> {
    const cp = new ControlPlane();
    try {
      await cp.startAll(o);
    } catch (e) {
      await cp.stop();
      throw e;
    }
    return cp;
  }

  private async startAll(o: ControlPlaneOptions): Promise<void> {
    let ports: number[] = [];
    for (const [i, addr] of PEERS.entries()) {
      const sp = new BgpLsSpeaker({ asn: 65001, routerId: `198.18.255.${i + 1}`, holdTime: 30, nextHop: `198.18.255.${i + 1}`, peerAsn: 65000 });
      this.speakers.push(sp);
      // In a namespace, the speakers need not own distinct addresses here: the bridge's do.
      ports.push(await sp.listen(0, o.inNamespace ? "127.0.0.1" : addr));
    }
    const ns = o.inNamespace;
    if (ns) {
      this.bridge = await bridgeIntoNamespace(ns.lab, ns.node, ns.dir, PEERS.map((address, i) => ({ address, target: ports[i] })));
      ports = this.bridge.ports;
    }
    this.exabgp = await startExabgp({
      peerPort: ports[0],
      extraPeers: [{ address: PEERS[1], port: ports[1] }],
      processCommand: o.processCommand,
      exabgpPath: o.exabgp?.path,
      exabgpVersion: o.exabgp?.version,
      ...(ns ? { netns: ns.lab.ns(ns.node) } : {}),
    });
    await Promise.all(this.speakers.map((sp) => sp.established(30_000)));
    for (const sp of this.speakers) sp.announceTopology(o.ls);
  }

  async stop(): Promise<void> {
    await this.exabgp?.stop();
    await this.bridge?.close();
    for (const sp of this.speakers) await sp.stop();
  }
}
