// Fails when the committed generated code (src/gql/) is not what codegen produces from the
// committed schema.graphql and the .graphql operations: regenerate into a temporary directory, diff.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const committed = "src/gql";
const fresh = mkdtempSync(join(tmpdir(), "packgraph-codegen-"));
try {
  execFileSync("npx", ["graphql-codegen", "--config", "codegen.ts", "--silent"], {
    stdio: "inherit",
    env: { ...process.env, PACKGRAPH_CODEGEN_OUT: fresh + "/" },
  });
  const names = new Set([...readdirSync(fresh), ...(existsSync(committed) ? readdirSync(committed) : [])]);
  const stale = [...names].filter((name) => {
    const a = join(committed, name);
    const b = join(fresh, name);
    return !existsSync(a) || !existsSync(b) || readFileSync(a, "utf8") !== readFileSync(b, "utf8");
  });
  if (stale.length > 0) {
    console.error(`codegen:check: ${committed}/ is stale (${stale.join(", ")}). Run \`npm run codegen\`.`);
    process.exit(1);
  }
  console.log("codegen:check: generated code is up to date");
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
