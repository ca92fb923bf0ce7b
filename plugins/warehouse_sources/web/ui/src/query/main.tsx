import { ChakraProvider, defaultSystem } from "@chakra-ui/react";

import { QueryPage } from "./QueryPage";

/** The component Airflow's UI mounts for the "Query" nav entry (react_apps), in Airflow's theme. */
const PluginComponent = () => (
  <ChakraProvider value={globalThis.ChakraUISystem ?? defaultSystem}>
    <QueryPage />
  </ChakraProvider>
);

export default PluginComponent;
