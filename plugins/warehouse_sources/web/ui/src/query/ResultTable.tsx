import { Box, Table, Text } from "@chakra-ui/react";

import type { QueryResult } from "../api";
import { cellText, isNumeric } from "./results";

/** The rows under a header that names each column and its type; scrolls inside its own box. */
export const ResultTable = ({ result }: { result: QueryResult }) => {
  const numeric = result.columns.map(isNumeric);
  return (
    <Box borderRadius="md" borderWidth="1px" maxH="60vh" overflow="auto">
      <Table.Root data-testid="result-table" size="sm" stickyHeader>
        <Table.Header>
          <Table.Row>
            {result.columns.map((column, i) => (
              <Table.ColumnHeader key={`${column.name}-${i}`} textAlign={numeric[i] ? "end" : "start"} verticalAlign="top">
                <Text fontFamily="mono">{column.name}</Text>
                <Text color="fg.muted" fontSize="2xs" fontWeight="normal">{column.type}</Text>
              </Table.ColumnHeader>
            ))}
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {result.rows.map((row, r) => (
            <Table.Row key={r}>
              {row.map((value, i) => (
                <Table.Cell
                  color={value === null ? "fg.muted" : undefined}
                  fontVariantNumeric={numeric[i] ? "tabular-nums" : undefined}
                  key={i}
                  textAlign={numeric[i] ? "end" : "start"}
                  whiteSpace="nowrap"
                >
                  {cellText(value)}
                </Table.Cell>
              ))}
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Box>
  );
};
