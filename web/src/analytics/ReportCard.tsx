import { useState, type ReactNode } from 'react';
import { useLocaleState, useNotify, useTranslate } from 'react-admin';
import { Box, Card, CardContent, CardHeader, CircularProgress, IconButton, Table as MuiTable, TableBody, TableCell, TableContainer, TableHead, TableRow, Tooltip, Typography } from '@mui/material';
import TableChartIcon from '@mui/icons-material/TableChart';
import InsertChartIcon from '@mui/icons-material/InsertChart';
import DownloadIcon from '@mui/icons-material/Download';
import GridOnIcon from '@mui/icons-material/GridOn';
import { downloadReport, type Column, type Report, type Row, type Table } from './report';
import { formatCell } from './format';

/** Text columns whose values are codes, shown as the forms show them. */
const CODED: Record<string, string> = { kind: 'choices.stage_kind' };

/** A report's table as the user reads it: translated headers, figures in their locale. */
export const ReportTable = ({ table, currency }: { table: Table; currency: string }) => {
  const translate = useTranslate();
  const [locale] = useLocaleState();
  const numeric = (kind: string) => !['period', 'text', 'id'].includes(kind);
  const columns = table.columns.filter((c) => c.kind !== 'id');
  const cell = ({ key, kind }: Column, value: Row[string]) => {
    if (kind === 'text' && value === null) return translate('accord.reports.none');
    if (kind === 'text' && CODED[key]) return translate(`${CODED[key]}.${value}`, { _: String(value) });
    return formatCell(value, kind, locale, currency);
  };
  return (
    // Zero width filled to 100 %: a wide table scrolls in its card and never widens the page.
    <TableContainer sx={{ maxHeight: 360, width: 0, minWidth: '100%' }}>
      <MuiTable size="small" stickyHeader aria-label={translate(`accord.reports.titles.${table.name}`, { _: table.name })}>
        <TableHead>
          <TableRow>{columns.map((c) => <TableCell key={c.key} align={numeric(c.kind) ? 'right' : 'left'}>{translate(`accord.reports.columns.${c.key}`, { _: c.key.replace(/^month_(\d+)$/, '+$1') })}</TableCell>)}</TableRow>
        </TableHead>
        <TableBody>
          {table.rows.map((r, i) => (
            <TableRow key={i}>{columns.map((c) => <TableCell key={c.key} align={numeric(c.kind) ? 'right' : 'left'}>{cell(c, r[c.key])}</TableCell>)}</TableRow>
          ))}
        </TableBody>
      </MuiTable>
    </TableContainer>
  );
};

/**
 * One report on the dashboard: a chart that can be turned into its table, and exports of the
 * same figures as CSV or XLSX (written by the API, so the file is what an integrator gets).
 */
export const ReportCard = ({ name, title, query, state, children, table = 0 }: {
  name: string;
  title: string;
  query: URLSearchParams;
  state: { data?: Report; error?: Error; loading: boolean };
  children: (report: Report) => ReactNode;
  table?: number;
}) => {
  const translate = useTranslate();
  const notify = useNotify();
  const [asTable, setAsTable] = useState(false);
  const report = state.data;
  const shown = report?.tables[table];
  const download = (format: 'csv' | 'xlsx') => downloadReport(name, query, format, shown?.name).catch((e: Error) => notify(e.message, { type: 'error' }));
  return (
    <Card data-testid={table ? `report-${name}-${table}` : `report-${name}`} sx={{ height: '100%' }}>
      <CardHeader
        title={title}
        titleTypographyProps={{ variant: 'subtitle1', component: 'h2' }}
        action={
          <Box sx={{ display: 'flex' }}>
            <Tooltip title={translate(asTable ? 'accord.reports.as_chart' : 'accord.reports.as_table')}>
              <IconButton aria-label={translate(asTable ? 'accord.reports.as_chart' : 'accord.reports.as_table')} onClick={() => setAsTable(!asTable)}>{asTable ? <InsertChartIcon /> : <TableChartIcon />}</IconButton>
            </Tooltip>
            <Tooltip title={translate('accord.reports.export_csv')}>
              <IconButton aria-label={translate('accord.reports.export_csv')} onClick={() => download('csv')}><DownloadIcon /></IconButton>
            </Tooltip>
            <Tooltip title={translate('accord.reports.export_xlsx')}>
              <IconButton aria-label={translate('accord.reports.export_xlsx')} onClick={() => download('xlsx')}><GridOnIcon /></IconButton>
            </Tooltip>
          </Box>
        }
      />
      <CardContent sx={{ pt: 0 }}>
        {state.loading && !report && <Box sx={{ display: 'flex', justifyContent: 'center', py: 6 }}><CircularProgress size={28} aria-label={translate('ra.page.loading')} /></Box>}
        {state.error && <Typography color="error">{state.error.message}</Typography>}
        {report && shown && (asTable ? <ReportTable table={shown} currency={report.currency} /> : children(report))}
        {report && report.unconverted.length > 0 && (
          <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1 }}>
            {translate('accord.reports.unconverted', { amounts: report.unconverted.map((u) => `${u.amount} ${u.currency}`).join(', ') })}
          </Typography>
        )}
      </CardContent>
    </Card>
  );
};
