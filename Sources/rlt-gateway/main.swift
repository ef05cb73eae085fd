print("rlt-gateway")
