import { defaultTheme } from 'react-admin';
import { deepmerge } from '@mui/utils';

/** react-admin's theme with a visible keyboard focus ring on every control. */
export const theme = deepmerge(defaultTheme, {
  palette: { primary: { main: '#1e4f8a' }, secondary: { main: '#1e4f8a' } },
  components: {
    // Wide content (the board) scrolls inside the page instead of widening it.
    RaLayout: { styleOverrides: { root: { '& .RaLayout-content': { minWidth: 0 } } } },
    MuiButtonBase: { styleOverrides: { root: { '&.Mui-focusVisible': { outline: '2px solid #f29d0b', outlineOffset: 2 } } } },
  },
});
