// Built the way Airflow's React plugin template builds (dev/react-plugin-tools): a library bundle
// whose React, ReactDOM, JSX runtime, Chakra UI and Emotion come from Airflow's UI at run time,
// so the page shares Airflow's React instance and inherits its theme, light and dark.
import react from "@vitejs/plugin-react";
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    emptyOutDir: true,
    lib: {
      entry: resolve(__dirname, "src/main.tsx"),
      fileName: () => "sources-page.js",
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
