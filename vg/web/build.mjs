// Copies the styles installed from the npm registry (npm ci) into the git-ignored
// static/build folder the application serves. Nothing from node_modules is committed.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const out = join(here, "static", "build");
const files = {
  "tokens.css": "@rijkshuisstijl-community/design-tokens/dist/index.css",
  "utrecht.css": "@utrecht/component-library-css/dist/index.css",
};
mkdirSync(out, { recursive: true });
for (const [name, source] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", source), join(out, name));
  console.log(`static/build/${name} <- ${source}`);
}
