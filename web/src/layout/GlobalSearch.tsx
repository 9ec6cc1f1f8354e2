import { useEffect, useRef, useState } from 'react';
import { useTranslate, useCreatePath } from 'react-admin';
import { useNavigate } from 'react-router-dom';
import { Autocomplete, TextField, Chip, Box } from '@mui/material';
import { apiFetch } from '../api';

interface Hit { entity: string; id: number; display_name: string }

const RESOURCE: Record<string, string> = { contact: 'contacts', company: 'companies', product: 'products', deal: 'deals', lead: 'leads' };

/**
 * Search across every record as the user types (Ctrl+K / ⌘K focuses it). Only the answer to
 * the latest keystroke is shown: older requests are aborted.
 */
export const GlobalSearch = () => {
  const translate = useTranslate();
  const navigate = useNavigate();
  const createPath = useCreatePath();
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [hits, setHits] = useState<Hit[]>([]);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        input.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (text.trim().length < 2) {
      setHits([]);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      setLoading(true);
      apiFetch<{ data: Hit[] }>(`search?${new URLSearchParams({ q: text, limit: '15' })}`, { signal: abort.signal })
        .then((r) => setHits(r.data))
        .catch(() => undefined)
        .finally(() => setLoading(false));
    }, 120);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [text]);

  return (
    <Autocomplete<Hit, false, false, true>
      freeSolo
      size="small"
      sx={{ width: { xs: 150, sm: 320 }, bgcolor: 'background.paper', borderRadius: 1 }}
      options={hits}
      loading={loading}
      filterOptions={(o) => o}
      getOptionLabel={(h) => (typeof h === 'string' ? h : h.display_name)}
      isOptionEqualToValue={(a, b) => a.entity === b.entity && a.id === b.id}
      noOptionsText={translate(text.trim().length < 2 ? 'accord.search.hint' : 'accord.search.nothing')}
      onInputChange={(_, value, reason) => reason !== 'reset' && setText(value)}
      onChange={(_, hit) => {
        if (hit && typeof hit !== 'string') {
          navigate(createPath({ resource: RESOURCE[hit.entity], id: hit.id, type: 'edit' }));
          setText('');
          setHits([]);
        }
      }}
      renderOption={(props, h) => (
        <Box component="li" {...props} key={`${h.entity}-${h.id}`} sx={{ gap: 1 }}>
          <Chip size="small" label={translate(`accord.entity.${h.entity}`)} />
          {h.display_name}
        </Box>
      )}
      renderInput={(params) => (
        <TextField {...params} variant="outlined" size="small" hiddenLabel inputRef={input} placeholder={translate('accord.search.placeholder')}
          slotProps={{ htmlInput: { ...params.inputProps, 'aria-label': translate('accord.search.label') } }} />
      )}
    />
  );
};
