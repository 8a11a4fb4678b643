// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, nothing stylistic
// (Prettier formats). Run: `npm run lint` in frontend/.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

/** A config block refusing, in `files`, imports of the given folders of src/. */
function noImports(files, folders) {
  const group = folders.flatMap((f) => [`./${f}/*`, `../${f}/*`]);
  const message = "pages share code through src/components/ or src/lib/ (see frontend/README.md)";
  return { files, rules: { "no-restricted-imports": ["error", { patterns: [{ group, message }] }] } };
}

export default defineConfig([
  { ignores: ["node_modules/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `_name` marks a parameter kept for its position (tsc's noUnusedParameters agrees)
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // A page never imports another page's folder: what two pages need is in components/ or lib/.
  noImports(["src/cost.tsx", "src/service-home.tsx"], ["usage", "profiles", "builds"]),
  noImports(["src/usage.tsx", "src/usage/**"], ["profiles", "builds"]),
  noImports(["src/components/**", "src/lib/**"], ["usage", "profiles", "builds"]),
  // The spawn form's scripts stay out of the shared chunks (see README.md).
  noImports(["src/profiles-form.ts", "src/profiles/**", "src/builds/**"], ["usage", "components"]),
]);
