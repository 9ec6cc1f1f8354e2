import { useEffect, type ReactNode } from 'react';
import { AppBar, Layout as RaLayout, LocalesMenuButton, Logout, Menu, TitlePortal, UserMenu, usePermissions, useUserMenu, useTranslate, MenuItemLink, useLocaleState } from 'react-admin';
import { Box } from '@mui/material';
import TodayIcon from '@mui/icons-material/Today';
import ViewKanbanIcon from '@mui/icons-material/ViewKanban';
import SettingsIcon from '@mui/icons-material/Settings';
import InsightsIcon from '@mui/icons-material/Insights';
import PersonIcon from '@mui/icons-material/Person';
import UploadFileIcon from '@mui/icons-material/UploadFile';
import ContentCopyIcon from '@mui/icons-material/ContentCopy';
import { GlobalSearch } from './GlobalSearch';
import { NotificationsBell } from './NotificationsBell';
import { canWrite, currentUser, isAdmin } from '../authProvider';
import { apiFetch, json } from '../api';

const AccountMenuItem = () => {
  const translate = useTranslate();
  // The user menu closes once the page is chosen, as its Logout entry does.
  const userMenu = useUserMenu();
  return <MenuItemLink to="/account" primaryText={translate('accord.menu.account')} leftIcon={<PersonIcon />} onClick={() => userMenu?.onClose()} />;
};

const AccordAppBar = () => (
  <AppBar
    toolbar={
      <Box sx={{ display: 'flex', alignItems: 'center', gap: { xs: 0, sm: 1 } }}>
        <GlobalSearch />
        <NotificationsBell />
        {/* On a phone the language is chosen on the account page: the bar keeps room for the user menu. */}
        <Box sx={{ display: { xs: 'none', sm: 'block' } }}><LocalesMenuButton /></Box>
      </Box>
    }
    userMenu={<UserMenu><AccountMenuItem /><Logout /></UserMenu>}
  >
    <TitlePortal />
  </AppBar>
);

const AccordMenu = () => {
  const translate = useTranslate();
  const { permissions } = usePermissions();
  return (
    <Menu>
      <Menu.Item to="/" primaryText={translate('accord.menu.my_day')} leftIcon={<TodayIcon />} />
      <Menu.ResourceItem name="contacts" />
      <Menu.ResourceItem name="companies" />
      <Menu.ResourceItem name="leads" />
      <Menu.ResourceItem name="deals" />
      <Menu.Item to="/board" primaryText={translate('accord.menu.board')} leftIcon={<ViewKanbanIcon />} />
      <Menu.Item to="/analytics" primaryText={translate('accord.menu.analytics')} leftIcon={<InsightsIcon />} />
      <Menu.ResourceItem name="tasks" />
      <Menu.ResourceItem name="activities" />
      <Menu.ResourceItem name="products" />
      {canWrite(permissions) && <Menu.Item to="/import" primaryText={translate('accord.menu.import')} leftIcon={<UploadFileIcon />} />}
      {canWrite(permissions) && <Menu.Item to="/duplicates" primaryText={translate('accord.menu.duplicates')} leftIcon={<ContentCopyIcon />} />}
      {isAdmin(permissions) && <Menu.Item to="/settings" primaryText={translate('accord.menu.settings')} leftIcon={<SettingsIcon />} />}
    </Menu>
  );
};

/** The language a user picks is theirs on every device: it is saved to their profile. */
const useLocaleSync = () => {
  const [locale] = useLocaleState();
  useEffect(() => {
    const me = currentUser();
    if (me && me.user.locale !== locale) {
      apiFetch('me', { method: 'PATCH', body: json({ locale }) }).then(() => { me.user.locale = locale; }).catch(() => undefined);
    }
  }, [locale]);
};

export const Layout = ({ children }: { children: ReactNode }) => {
  useLocaleSync();
  return <RaLayout appBar={AccordAppBar} menu={AccordMenu}>{children}</RaLayout>;
};
