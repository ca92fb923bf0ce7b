// Built the way Airflow's React plugin template builds (dev/react-plugin-tools): a library bundle
// whose React, ReactDOM, JSX runtime, Chakra UI and Emotion come from Airflow's UI at run time,
// so the page shares Airflow's React instance and inherits its theme, light and dark.
// One bundle per page (PAGE=sources|query): Airflow's UI loads each react_app by importing its
// bundle_url and reading the global AirflowPlugin, and the browser runs a module URL only once,
// so two apps cannot share one bundle. scripts/build_ui.sh builds both into dist/.
import react from "@vitejs/plugin-react";
import { resolve } from "node:path";
import { defineConfig } from "vite";

const PAGES: Record<string, string> = { query: "src/query/main.tsx", sources: "src/main.tsx" };
const page = process.env.PAGE ?? "sources";
if (!(page in PAGES)) throw new Error(`PAGE=${page}: build one of ${Object.keys(PAGES).join(", ")}`);

export default defineConfig({
  base: "./",
  build: {
    emptyOutDir: false, // the other page's bundle shares dist/
    lib: {
      entry: resolve(__dirname, PAGES[page]),
      fileName: () => `${page}-page.js`,
      formats: ["umd"],
      name: "AirflowPlugin",
    },
    minify: true,
    outDir: "dist",
    rollupOptions: {
      external: ["react", "react-dom", "react/jsx-runtime", "@chakra-ui/react", "@emotion/react"],
      output: {
        globals: {
          "@chakra-ui/react": "ChakraUI",
          "@emotion/react": "EmotionReact",
          react: "React",
          "react-dom": "ReactDOM",
          "react/jsx-runtime": "ReactJSXRuntime",
        },
      },
    },
    sourcemap: false,
  },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  plugins: [react()],
});
