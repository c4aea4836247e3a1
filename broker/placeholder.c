int broker_placeholder(void);
int broker_placeholder(void) { return 0; }
