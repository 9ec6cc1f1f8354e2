import { useEffect, useState } from 'react';
import { useGetList, useLocaleState, useTranslate } from 'react-admin';
import { Box, Card, CardContent, CardHeader, LinearProgress, Typography } from '@mui/material';
import { apiFetch } from '../api';
import { formatCell } from './format';

export interface Goal {
  id: number; metric: 'won_amount' | 'won_deals' | 'calls'; period: 'month' | 'quarter'; period_start: string; period_end: string;
  user_id: number | null; team_id: number | null; target: string; actual: string; percent: string | null; version: number;
}

/** Progress against the goals whose period includes today: the user's and their teams' on "my numbers". */
export const GoalsCard = ({ mine, userId, currency }: { mine: boolean; userId?: number; currency: string }) => {
  const translate = useTranslate();
  const [locale] = useLocaleState();
  const [goals, setGoals] = useState<Goal[] | null>(null);
  const { data: users } = useGetList('users', { pagination: { page: 1, perPage: 500 } }, { staleTime: 60_000 });
  const { data: teams } = useGetList('teams', { pagination: { page: 1, perPage: 100 } }, { staleTime: 60_000 });
  useEffect(() => { apiFetch<Goal[]>('goals').then(setGoals).catch(() => setGoals([])); }, []);
  const myTeams = new Set((teams ?? []).filter((t) => (t.member_ids as number[] | undefined)?.includes(userId ?? -1)).map((t) => t.id));
  const shown = (goals ?? []).filter((g) => !mine || g.user_id === userId || (g.team_id !== null && myTeams.has(g.team_id)));
  const whose = (g: Goal) => g.user_id !== null
    ? (users ?? []).find((u) => u.id === g.user_id || u.user_id === g.user_id)?.name ?? `#${g.user_id}`
    : (teams ?? []).find((t) => t.id === g.team_id)?.name ?? `#${g.team_id}`;
  const figure = (g: Goal, v: string) => formatCell(v, g.metric === 'won_amount' ? 'money' : 'count', locale, currency);
  return (
    <Card data-testid="goals">
      <CardHeader title={translate('accord.reports.titles.goals')} titleTypographyProps={{ variant: 'subtitle1', component: 'h2' }} />
      <CardContent sx={{ pt: 0 }}>
        {goals !== null && shown.length === 0 && <Typography variant="body2" color="text.secondary">{translate('accord.goals.none')}</Typography>}
        {shown.map((g) => (
          <Box key={g.id} sx={{ mb: 1.5 }} data-testid={`goal-${g.id}`}>
            <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 1, flexWrap: 'wrap' }}>
              <Typography variant="body2">{whose(g)} · {translate(`accord.goals.metrics.${g.metric}`)} · {translate(`accord.goals.periods.${g.period}`)} {g.period_start}</Typography>
              <Typography variant="body2" color="text.secondary">{figure(g, g.actual)} / {figure(g, g.target)} ({formatCell(g.percent, 'percent', locale, currency)})</Typography>
            </Box>
            <LinearProgress variant="determinate" value={Math.min(100, Number(g.percent ?? 0))} aria-label={`${whose(g)}: ${translate(`accord.goals.metrics.${g.metric}`)}`} sx={{ height: 8, borderRadius: 4 }} />
          </Box>
        ))}
      </CardContent>
    </Card>
  );
};
