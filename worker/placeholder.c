int worker_placeholder(void);
int worker_placeholder(void) { return 0; }
