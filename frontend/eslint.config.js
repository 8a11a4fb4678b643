// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, nothing stylistic
// (Prettier formats; `npx prettier --check .`). Run: `npx eslint .` in frontend/.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig({ ignores: ["node_modules/"] }, js.configs.recommended, tseslint.configs.recommended, {
  rules: {
    // `_name` marks a parameter kept for its position (tsc's noUnusedParameters agrees)
    "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
  },
});
