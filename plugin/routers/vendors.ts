// The vendors `lsprobe-plugin routers --vendor` knows, by name.
import { eos } from "./eos.js";
import { iosxr } from "./iosxr.js";
import { junos } from "./junos.js";
import { linux } from "./linux.js";
import { sros } from "./sros.js";
import type { Vendor } from "./types.js";

export const VENDORS: ReadonlyMap<string, Vendor> = new Map([junos, eos, iosxr, sros, linux].map((v) => [v.name, v]));
