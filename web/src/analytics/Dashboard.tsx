import { useMemo, useState } from 'react';
import { Title, useGetList, useLocaleState, useTranslate } from 'react-admin';
import { Box, Card, CardContent, FormControlLabel, Grid, MenuItem, Stack, Switch, TextField, Typography } from '@mui/material';
import { Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { currentUser } from '../authProvider';
import { useNamed, type Pipeline } from '../resources/deals';
import { ReportCard, ReportTable } from './ReportCard';
import { GoalsCard } from './GoalsCard';
import { compactMoney, formatCell, periodLabel } from './format';
import { num, reportQuery, useReport, type Report, type ReportFilters, type Row } from './report';

const HEIGHT = 260;
const COLORS = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#c62828', '#00838f'];

// "All" shows in an empty select instead of a label pretending to be a value.
const allOption = { select: { displayEmpty: true }, inputLabel: { shrink: true } };

const rowsOf = (r: Report, table = 0) => r.tables[table]?.rows ?? [];

/** Figures over periods as lines (rates, days): one mechanism for the period charts. */
const PeriodLines = ({ data, lines, formatter, percentAxis }: { data: Record<string, unknown>[]; lines: { key: string; name: string; color: string }[]; formatter: (v: unknown) => string; percentAxis?: boolean }) => (
  <ResponsiveContainer width="100%" height={HEIGHT}>
    <LineChart data={data}>
      <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="label" />
      {percentAxis ? <YAxis unit=" %" domain={[0, 100]} /> : <YAxis />}
      <Tooltip formatter={formatter} /><Legend />
      {lines.map((l) => <Line key={l.key} dataKey={l.key} name={l.name} stroke={l.color} connectNulls />)}
    </LineChart>
  </ResponsiveContainer>
);

/**
 * Analytics: KPI tiles and charts from the report API with one set of filters. A manager sees
 * the team's (or workspace's) numbers; a salesperson starts on "my numbers".
 */
export const Dashboard = () => {
  const translate = useTranslate();
  const named = useNamed();
  const [locale] = useLocaleState();
  const me = currentUser();
  const { data: pipelines } = useGetList<Pipeline>('pipelines', { pagination: { page: 1, perPage: 100 } }, { staleTime: 60_000 });
  const { data: teams } = useGetList('teams', { pagination: { page: 1, perPage: 100 } }, { staleTime: 60_000 });
  const [mine, setMine] = useState(me?.role === 'member');
  const [form, setForm] = useState({ from: '', to: '', group_by: 'month', pipeline_id: '', team_id: '' });
  const filters: ReportFilters = { ...form, team_id: mine ? '' : form.team_id, owner_id: mine && me ? String(me.user.id) : '' };
  const key = JSON.stringify(filters);
  const query = useMemo(() => reportQuery(filters), [key]);
  const withParams = (extra: Record<string, string>) => reportQuery(filters, extra);

  const revenue = useReport('revenue', query);
  const winRate = useReport('win_rate', query);
  const cycle = useReport('sales_cycle', query);
  const funnelQuery = useMemo(() => withParams({ group_by: '' }), [query]);
  const funnel = useReport('funnel', funnelQuery);
  // The forecast looks ahead from this month unless a range is chosen.
  const forecastQuery = useMemo(() => withParams({ group_by: form.group_by === 'quarter' ? 'quarter' : 'month' }), [query]);
  const forecast = useReport('forecast', forecastQuery);
  const lost = useReport('lost_reasons', query);
  const leaderboard = useReport('leaderboard', query);
  const activity = useReport('activity', query);
  const productsQuery = useMemo(() => withParams({ limit: '10' }), [query]);
  const products = useReport('products', productsQuery);
  const conversion = useReport('conversion', query);
  const churn = useReport('churn', query);
  const frequency = useReport('purchase_frequency', query);

  const currency = revenue.data?.currency ?? 'RUB';
  const axisMoney = compactMoney(locale, currency);
  const cell = (v: string | number | null | undefined, kind: Parameters<typeof formatCell>[1]) => formatCell(v, kind, locale, currency);
  const tip = (kind: Parameters<typeof formatCell>[1]) => (v: unknown) => cell(v as number, kind);
  const series = (r: Report, keys: string[], table = 0) => rowsOf(r, table).map((row: Row) => ({ ...Object.fromEntries(keys.map((k) => [k, num(row[k])])), label: periodLabel(String(row.period ?? ''), locale) }));
  const t = (key: string) => translate(`accord.reports.columns.${key}`, { _: key });
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const tiles: { key: string; label: string; value: string }[] = [
    { key: 'revenue', label: t('revenue'), value: cell(revenue.data?.summary.revenue, 'money') },
    { key: 'won_deals', label: t('won_deals'), value: cell(revenue.data?.summary.won_deals, 'count') },
    { key: 'average_deal', label: t('average_deal'), value: cell(revenue.data?.summary.average_deal, 'money') },
    { key: 'win_rate', label: t('win_rate'), value: cell(winRate.data?.summary.win_rate, 'percent') },
    { key: 'median_days', label: translate('accord.reports.tiles.cycle'), value: cell(cycle.data?.summary.median_days, 'days') },
    { key: 'weighted_amount', label: translate('accord.reports.tiles.forecast'), value: cell(forecast.data?.summary.weighted_amount, 'money') },
  ];

  return (
    <Box sx={{ mt: 2, mb: 4 }}>
      <Title title={translate('accord.reports.title')} />
      <Card sx={{ mb: 2 }}>
        <CardContent>
          <Stack direction={{ xs: 'column', md: 'row' }} spacing={2} sx={{ alignItems: { md: 'center' }, flexWrap: 'wrap', '& .MuiTextField-root': { width: { xs: '100%', md: 'auto' }, minWidth: 170 } }} useFlexGap>
            <FormControlLabel control={<Switch checked={mine} onChange={(e) => setMine(e.target.checked)} />} label={translate('accord.reports.mine')} />
            <TextField type="date" size="small" label={translate('accord.reports.from')} value={form.from} onChange={set('from')} slotProps={{ inputLabel: { shrink: true } }} />
            <TextField type="date" size="small" label={translate('accord.reports.to')} value={form.to} onChange={set('to')} slotProps={{ inputLabel: { shrink: true } }} />
            <TextField select size="small" label={translate('accord.reports.group_by')} value={form.group_by} onChange={set('group_by')}>
              {['day', 'week', 'month', 'quarter'].map((g) => <MenuItem key={g} value={g}>{translate(`accord.reports.grouping.${g}`)}</MenuItem>)}
            </TextField>
            <TextField select size="small" label={translate('resources.deals.fields.pipeline_id')} value={form.pipeline_id} onChange={set('pipeline_id')} slotProps={allOption}>
              <MenuItem value="">{translate('accord.reports.all')}</MenuItem>
              {(pipelines ?? []).map((p) => <MenuItem key={p.id} value={String(p.id)}>{named(p)}</MenuItem>)}
            </TextField>
            {!mine && (
              <TextField select size="small" label={translate('accord.reports.team')} value={form.team_id} onChange={set('team_id')} slotProps={allOption}>
                <MenuItem value="">{translate('accord.reports.all')}</MenuItem>
                {(teams ?? []).map((team) => <MenuItem key={team.id} value={String(team.id)}>{team.name}</MenuItem>)}
              </TextField>
            )}
          </Stack>
          {revenue.data && (
            <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1 }}>
              {translate('accord.reports.range', { from: new Date(revenue.data.from).toLocaleDateString(locale), to: new Date(revenue.data.to).toLocaleDateString(locale), currency, zone: revenue.data.time_zone })}
            </Typography>
          )}
        </CardContent>
      </Card>

      <Grid container spacing={2} sx={{ mb: 2 }}>
        {tiles.map((tile) => (
          <Grid key={tile.key} size={{ xs: 6, sm: 4, lg: 2 }}>
            <Card data-testid={`kpi-${tile.key}`}><CardContent>
              <Typography variant="body2" color="text.secondary">{tile.label}</Typography>
              <Typography variant="h5" component="p">{tile.value}</Typography>
            </CardContent></Card>
          </Grid>
        ))}
      </Grid>

      <Box sx={{ mb: 2 }}><GoalsCard mine={mine} userId={me?.user.id} currency={currency} /></Box>

      <Grid container spacing={2}>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="revenue" title={translate('accord.reports.titles.revenue')} query={query} state={revenue}>
            {(r) => (
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <ComposedChart data={series(r, ['revenue', 'average_deal'])}>
                  <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="label" />
                  <YAxis yAxisId="revenue" tickFormatter={axisMoney} width={80} />
                  <YAxis yAxisId="average" orientation="right" tickFormatter={axisMoney} width={80} />
                  <Tooltip formatter={tip('money')} /><Legend />
                  <Bar yAxisId="revenue" dataKey="revenue" name={t('revenue')} fill={COLORS[0]} />
                  <Line yAxisId="average" dataKey="average_deal" name={t('average_deal')} stroke={COLORS[2]} connectNulls />
                </ComposedChart>
              </ResponsiveContainer>
            )}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="funnel" title={translate('accord.reports.titles.funnel')} query={funnelQuery} state={funnel}>
            {(r) => (
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <BarChart layout="vertical" data={rowsOf(r).filter((s) => s.kind !== 'lost').map((s) => ({ stage: s.stage, reached: num(s.reached), entered: num(s.entered) }))}>
                  <CartesianGrid strokeDasharray="3 3" /><XAxis type="number" /><YAxis type="category" dataKey="stage" width={130} />
                  <Tooltip /><Legend />
                  <Bar dataKey="reached" name={t('reached')} fill={COLORS[0]} />
                  <Bar dataKey="entered" name={t('entered')} fill={COLORS[1]} />
                </BarChart>
              </ResponsiveContainer>
            )}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="forecast" title={translate('accord.reports.titles.forecast')} query={forecastQuery} state={forecast}>
            {(r) => (
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <ComposedChart data={series(r, ['open_amount', 'weighted_amount', 'won_amount', 'trend'])}>
                  <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="label" /><YAxis tickFormatter={axisMoney} width={80} />
                  <Tooltip formatter={tip('money')} /><Legend />
                  <Bar dataKey="open_amount" name={t('open_amount')} fill="#90caf9" />
                  <Bar dataKey="weighted_amount" name={t('weighted_amount')} fill={COLORS[0]} />
                  <Line dataKey="won_amount" name={t('won_amount')} stroke={COLORS[1]} />
                  <Line dataKey="trend" name={t('trend')} stroke={COLORS[2]} strokeDasharray="5 5" dot={false} />
                </ComposedChart>
              </ResponsiveContainer>
            )}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="win_rate" title={translate('accord.reports.titles.win_rate')} query={query} state={winRate}>
            {(r) => <PeriodLines data={series(r, ['win_rate', 'win_rate_by_amount'])} formatter={tip('percent')} percentAxis
              lines={[{ key: 'win_rate', name: t('win_rate'), color: COLORS[0] }, { key: 'win_rate_by_amount', name: t('win_rate_by_amount'), color: COLORS[3] }]} />}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="lost_reasons" title={translate('accord.reports.titles.lost_reasons')} query={query} state={lost}>
            {(r) => (
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <BarChart layout="vertical" data={rowsOf(r).map((row) => ({ reason: row.reason ?? translate('accord.reports.none'), lost_deals: num(row.lost_deals) }))}>
                  <CartesianGrid strokeDasharray="3 3" /><XAxis type="number" allowDecimals={false} /><YAxis type="category" dataKey="reason" width={150} />
                  <Tooltip /><Bar dataKey="lost_deals" name={t('lost_deals')} fill={COLORS[4]} />
                </BarChart>
              </ResponsiveContainer>
            )}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="sales_cycle" title={translate('accord.reports.titles.sales_cycle')} query={query} state={cycle}>
            {(r) => <PeriodLines data={series(r, ['median_days', 'average_days'])} formatter={tip('days')}
              lines={[{ key: 'median_days', name: t('median_days'), color: COLORS[0] }, { key: 'average_days', name: t('average_days'), color: COLORS[2] }]} />}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="leaderboard" title={translate('accord.reports.titles.leaderboard')} query={query} state={leaderboard}>
            {(r) => <ReportTable table={r.tables[0]} currency={r.currency} />}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="activity" title={translate('accord.reports.titles.activity')} query={query} state={activity}>
            {(r) => <ReportTable table={r.tables[0]} currency={r.currency} />}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="products" title={translate('accord.reports.titles.products')} query={productsQuery} state={products}>
            {(r) => (
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <BarChart layout="vertical" data={rowsOf(r).map((row) => ({ product: row.product, revenue: num(row.revenue) }))}>
                  <CartesianGrid strokeDasharray="3 3" /><XAxis type="number" tickFormatter={axisMoney} /><YAxis type="category" dataKey="product" width={150} />
                  <Tooltip formatter={tip('money')} /><Bar dataKey="revenue" name={t('revenue')} fill={COLORS[5]} />
                </BarChart>
              </ResponsiveContainer>
            )}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="conversion" title={translate('accord.reports.titles.conversion')} query={query} state={conversion}>
            {(r) => (
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <BarChart data={rowsOf(r).map((row) => ({ source: row.source ?? translate('accord.reports.none'), leads: num(row.leads), qualified: num(row.qualified), won: num(row.won) }))}>
                  <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="source" /><YAxis allowDecimals={false} />
                  <Tooltip /><Legend />
                  <Bar dataKey="leads" name={t('leads')} fill={COLORS[0]} />
                  <Bar dataKey="qualified" name={t('qualified')} fill={COLORS[3]} />
                  <Bar dataKey="won" name={t('won')} fill={COLORS[1]} />
                </BarChart>
              </ResponsiveContainer>
            )}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="purchase_frequency" title={translate('accord.reports.titles.purchase_frequency')} query={query} state={frequency}>
            {(r) => (
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <ComposedChart data={series(r, ['customers', 'repeat_customers'])}>
                  <CartesianGrid strokeDasharray="3 3" /><XAxis dataKey="label" /><YAxis allowDecimals={false} />
                  <Tooltip /><Legend />
                  <Bar dataKey="customers" name={t('customers')} fill={COLORS[0]} />
                  <Bar dataKey="repeat_customers" name={t('repeat_customers')} fill={COLORS[1]} />
                </ComposedChart>
              </ResponsiveContainer>
            )}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12, lg: 6 }}>
          <ReportCard name="churn" title={translate('accord.reports.titles.churn')} query={query} state={churn}>
            {(r) => <PeriodLines data={series(r, ['churn_rate', 'retention_rate'])} formatter={tip('percent')} percentAxis
              lines={[{ key: 'churn_rate', name: t('churn_rate'), color: COLORS[4] }, { key: 'retention_rate', name: t('retention_rate'), color: COLORS[1] }]} />}
          </ReportCard>
        </Grid>
        <Grid size={{ xs: 12 }}>
          <ReportCard name="churn" title={translate('accord.reports.titles.cohorts')} query={query} state={churn} table={1}>
            {(r) => <ReportTable table={r.tables[1]} currency={r.currency} />}
          </ReportCard>
        </Grid>
      </Grid>
    </Box>
  );
};

export default Dashboard;
