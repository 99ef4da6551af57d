print("features")
