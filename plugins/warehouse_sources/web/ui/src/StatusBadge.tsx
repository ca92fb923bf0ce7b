import { Badge } from "@chakra-ui/react";

import type { Status } from "./api";

const PALETTE: Record<Status, string> = {
  Completed: "green",
  Deleted: "red",
  Failed: "red",
  "Never run": "gray",
  Paused: "yellow",
  Running: "blue",
};

/** Fixed width, so a status change while a sync runs never moves the row. */
export const StatusBadge = ({ status }: { status: Status }) => (
  <Badge colorPalette={PALETTE[status]} justifyContent="center" minW="88px" size="md" variant="solid">
    {status}
  </Badge>
);
