-- The activity log's trigger filter gets its own index (0009 had none): a trigger few entries
-- have (web, keypad) otherwise reads down the whole log to fill a page.
CREATE INDEX activity_account_trigger_time ON activity (account_id, trigger, at DESC, id DESC);
