// HTTP(S) GETs from inside a lab namespace: the lab's services listen on lab addresses, which
// this (root namespace) process cannot and must not reach. One agent process per namespace,
// started on first use, takes requests as JSON lines on stdin and answers each with one JSON
// line (cheaper than a `node -e` per request when a test polls every few hundred ms).
import { createInterface } from "node:readline";
import type { ChildProcess } from "node:child_process";
import type { Lab } from "./netns.js";

export interface FetchOptions {
  headers?: Record<string, string>;
  /** CA certificate file (PEM) to check an https:// server with. */
  ca?: string;
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
}

export interface FetchResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// One request a line: {id, url, headers, ca, timeoutMs}; one answer a line: {id, status, headers, body} or {id, error}.
const AGENT = [
  "const http=require('http'),https=require('https'),fs=require('fs'),rl=require('readline');",
  "const out=(o)=>process.stdout.write(JSON.stringify(o)+'\\n');",
  "rl.createInterface({input:process.stdin}).on('line',(l)=>{const q=JSON.parse(l);",
  "try{const u=new URL(q.url);const req=(u.protocol==='https:'?https:http).get(u,{headers:q.headers,agent:false,ca:q.ca?fs.readFileSync(q.ca):undefined,timeout:q.timeoutMs},(res)=>{",
  "let b='';res.setEncoding('utf8');res.on('data',(d)=>b+=d);res.on('end',()=>out({id:q.id,status:res.statusCode,headers:res.headers,body:b}));});",
  "req.on('timeout',()=>req.destroy(new Error('timed out')));req.on('error',(e)=>out({id:q.id,error:e.message}));}catch(e){out({id:q.id,error:e.message});}});",
  "process.stdin.on('end',()=>process.exit(0));",
].join("");

/** GETs from inside the lab's namespaces, one agent per node. */
export class NsFetcher {
  private readonly agents = new Map<string, ChildProcess>();
  private readonly pending = new Map<number, { node: string; resolve: (r: FetchResult) => void; reject: (e: Error) => void }>();
  private seq = 0;

  constructor(private readonly lab: Lab) {}

  /** GET `url` from inside `node`'s namespace; rejects on a connection error or timeout. */
  get(node: string, url: string, o: FetchOptions = {}): Promise<FetchResult> {
    const agent = this.agentIn(node);
    const id = ++this.seq;
    const timeoutMs = o.timeoutMs ?? 10_000;
    return new Promise<FetchResult>((resolve, reject) => {
      this.pending.set(id, { node, resolve, reject: (e) => reject(new Error(`GET ${url} from ${node}: ${e.message}`)) });
      agent.stdin!.write(JSON.stringify({ id, url, headers: o.headers ?? {}, ca: o.ca, timeoutMs }) + "\n");
    });
  }

  private agentIn(node: string): ChildProcess {
    const have = this.agents.get(node);
    if (have && have.exitCode === null && have.signalCode === null) return have;
    const agent = this.lab.spawnIn(node, [process.execPath, "-e", AGENT], { stdio: ["pipe", "pipe", "inherit"] });
    agent.stdin!.on("error", () => {});
    createInterface({ input: agent.stdout! }).on("line", (l) => {
      const a = JSON.parse(l) as FetchResult & { id: number; error?: string };
      const p = this.pending.get(a.id);
      this.pending.delete(a.id);
      if (a.error !== undefined) p?.reject(new Error(a.error));
      else p?.resolve({ status: a.status, headers: a.headers, body: a.body });
    });
    agent.on("exit", (code, signal) => {
      for (const [id, p] of this.pending) if (p.node === node) (this.pending.delete(id), p.reject(new Error(`the agent exited (${code ?? signal})`)));
    });
    this.agents.set(node, agent);
    return agent;
  }

  /** Ends every agent (the lab's destroy() would kill them too). */
  close(): void {
    for (const a of this.agents.values()) a.stdin!.end();
    this.agents.clear();
    for (const p of this.pending.values()) p.reject(new Error("fetcher closed"));
    this.pending.clear();
  }
}
