/** `src/api/schema.d.ts` must be what openapi-typescript makes of the committed openapi.json. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const web = resolve(import.meta.dirname, "..");

test("generated client types match scripts/openapi.json", () => {
  const dir = mkdtempSync(join(tmpdir(), "rita-openapi-"));
  try {
    const out = join(dir, "schema.d.ts");
    const bin = join(web, "node_modules", ".bin", "openapi-typescript");
    execFileSync(bin, [join(web, "scripts", "openapi.json"), "-o", out], { stdio: "ignore" });
    const committed = readFileSync(join(web, "src", "api", "schema.d.ts"), "utf8");
    expect(committed, "src/api/schema.d.ts is stale: run `npm run openapi:types`").toBe(readFileSync(out, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
