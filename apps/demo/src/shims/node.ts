/**
 * Stand-ins for the Node built-ins that some workspace modules import for their Node-only paths
 * (writing benchmark folders, loading onnxruntime-web from disk, reading model folders). The
 * browser build never calls them; if something does, it fails loudly.
 */
const fail = (name: string) => (): never => {
  throw new Error(`${name} is not available in the browser`);
};

export const existsSync = (): boolean => false;
export const readFileSync = fail('fs.readFileSync');
export const writeFileSync = fail('fs.writeFileSync');
export const mkdirSync = fail('fs.mkdirSync');
export const readFile = fail('fs.readFile');
export const open = fail('fs.open');
export const stat = fail('fs.stat');
export const createRequire = fail('module.createRequire');
export const setFlagsFromString = (): void => {};
export const fileURLToPath = (u: string | URL): string => String(u);
export const dirname = (p: string): string => p.replace(/\/[^/]*$/, '');
export const join = (...parts: string[]): string => parts.join('/');
export const resolve = (...parts: string[]): string => parts.join('/');
export const delimiter = ':';
export const spawn = fail('child_process.spawn');
export const spawnSync = fail('child_process.spawnSync');
export const homedir = (): string => '/';
export default {};
