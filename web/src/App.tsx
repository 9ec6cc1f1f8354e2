import { lazy, Suspense } from 'react';
import { Admin, CustomRoutes, Loading, Resource, localStorageStore } from 'react-admin';
import { BrowserRouter, Route } from 'react-router-dom';
import { ImportPage } from './pages/Import';
import { DuplicatesPage } from './pages/Duplicates';
import { authProvider } from './authProvider';
import { dataProvider } from './dataProvider';
import { i18nProvider } from './i18n';
import { Layout } from './layout/Layout';
import { LoginPage } from './pages/LoginPage';
import { MyDay } from './pages/MyDay';
import { Board } from './board/Board';
import { Account } from './pages/Account';
import { Settings } from './pages/Settings';
import { AcceptInvitation } from './pages/AcceptInvitation';
import { contacts } from './resources/contacts';
import { companies } from './resources/companies';
import { deals } from './resources/deals';
import { leads } from './resources/leads';
import { tasks } from './resources/tasks';
import { activities } from './resources/activities';
import { products } from './resources/products';
import { theme } from './layout/theme';

// Charts are loaded only when analytics is opened, so the first load stays small.
const Dashboard = lazy(() => import('./analytics/Dashboard'));

export const App = () => (
  <BrowserRouter>
    <Admin
      title="Accord"
      dataProvider={dataProvider}
      authProvider={authProvider}
      i18nProvider={i18nProvider}
      layout={Layout}
      loginPage={LoginPage}
      dashboard={MyDay}
      theme={theme}
      store={localStorageStore('1', 'accord')}
      requireAuth
      disableTelemetry
    >
      <Resource name="contacts" {...contacts} />
      <Resource name="companies" {...companies} />
      <Resource name="leads" {...leads} />
      <Resource name="deals" {...deals} />
      <Resource name="tasks" {...tasks} />
      <Resource name="activities" {...activities} />
      <Resource name="products" {...products} />
      <Resource name="users" recordRepresentation="name" />
      <Resource name="pipelines" recordRepresentation="name" />
      <Resource name="lost_reasons" />
      <CustomRoutes>
        <Route path="/board" element={<Board />} />
        <Route path="/analytics" element={<Suspense fallback={<Loading />}><Dashboard /></Suspense>} />
        <Route path="/account" element={<Account />} />
        <Route path="/import" element={<ImportPage />} />
        <Route path="/duplicates" element={<DuplicatesPage />} />
        <Route path="/settings/*" element={<Settings />} />
      </CustomRoutes>
      <CustomRoutes noLayout>
        <Route path="/invitations/:token" element={<AcceptInvitation />} />
      </CustomRoutes>
    </Admin>
  </BrowserRouter>
);
